//! The `ecocomp` binary: parses the command line and calls the library.

fn main() {
    let code = ecocomp::cli::main_with(std::env::args().collect());
    std::process::exit(code);
}
