//! Print the built-in agent catalogue (RUNTIME §9.15, the `agents.json` format).
//!
//! `cargo run --example catalogue > ../runtara_build/catalogue/agents.json`
extern crate runtara_runtime as rt;

fn main() {
    print!("{}", rt::agents::catalogue_json());
}
