"""The IRs: typed model IR (network level) and kernel IR (per time step), their text form,
verifier and reference interpreter. The bottom layer: it imports only `spikec.units` and
`spikec.errors`, never the frontend, passes, backends or runtime."""
