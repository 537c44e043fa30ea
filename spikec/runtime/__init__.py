"""The executor: devices, building networks (model IR → kernel IR → executable), the run loop in
chunks, monitors' data, variable storage and host-side code. Above the frontend, passes and
backends; `docs/runtime.md` explains it."""
