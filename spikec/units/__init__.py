"""Physical units and dimensions (Brian's names and behaviour). A leaf package: it imports only
`spikec.errors`, so the IR (which records each variable's dimension) can use it."""
