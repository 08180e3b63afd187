"""Rust code generation: the structured writer, the one escaping module, the program emitter."""
