//! The `lyceum` command: serve, migrate, administer.

fn main() -> std::process::ExitCode {
    lyceum::cli::main()
}
