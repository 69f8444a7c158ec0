//! The `ecocomp` binary: the command line, the console and exit codes, over the library.

mod cli;

fn main() {
    let code = cli::main_with(std::env::args().collect());
    std::process::exit(code);
}
