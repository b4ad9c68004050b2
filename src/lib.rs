//! Host package for the workspace-level test suite in `tests/`.
