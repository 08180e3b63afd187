"""The Rust toolchain: detection (runs processes) and pure argv construction."""
