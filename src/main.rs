//! The `ghforge` binary: parse flags, resolve settings, run the command, print any error and
//! exit with its code (0 ok, 1 a model or test failed, 2 usage or project error).

use std::process::ExitCode;

/// mimalloc: parsing and compiling make millions of small allocations; the system allocator
/// spends a quarter of the time of a 10,000-model compile on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use ghforge::cli::{Cli, Command};
use ghforge::commands;
use ghforge::error::Error;
use ghforge::settings::{Settings, process_env};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match ghforge::clock::Clock::from_env(std::env::var("GHFORGE_CLOCK").ok().as_deref()) {
        Ok(clock) => ghforge::clock::install(clock),
        Err(message) => {
            eprintln!("error: {message}\nhint: unset GHFORGE_CLOCK to use the system clock");
            return ExitCode::from(2);
        }
    }
    // Colour on a terminal only, and never with NO_COLOR (https://no-color.org).
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let console = ghforge::logging::ConsoleOptions {
        format: cli.global.log_format,
        color,
        level: cli.global.log_level.filter(),
    };
    ghforge::logging::init(console, std::env::var("GHFORGE_LOG").ok().as_deref());
    // Commands that need no project.
    if let Command::GenArchive(args) = &cli.command {
        return finish(commands::gen_archive::run(&cli.global, args));
    }
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let result = Settings::resolve(&cli.global, process_env(), home)
        .map_err(Error::from)
        .inspect(|settings| {
            // `ls` only reads the project and writes nothing, the debug log included.
            if matches!(cli.command, Command::Ls(_)) {
                return;
            }
            let file = &settings.load.file;
            if let Err(err) = ghforge::logging::open(&file.root.join(&file.target_path)) {
                eprintln!(
                    "warning: cannot write the debug log under `{}`: {err}",
                    file.target_path
                );
            }
        })
        .and_then(|settings| match &cli.command {
            Command::Compile(args) => commands::compile::run(settings, args),
            Command::Ls(args) => commands::ls::run(settings, args),
            Command::Run(args) => commands::run::run(settings, args, commands::run::Kind::Run),
            Command::Seed(args) => commands::run::run(settings, args, commands::run::Kind::Seed),
            Command::Test(args) => commands::run::run(settings, args, commands::run::Kind::Test),
            Command::Build(args) => commands::run::run(settings, args, commands::run::Kind::Build),
            Command::Load(args) => commands::load::run(settings, args),
            Command::Enrich(args) => commands::enrich::run(settings, args),
            Command::Debug => commands::debug::run(settings),
            Command::Serve(args) => commands::serve::run(settings, args),
            Command::Publish(args) => commands::serve::publish_command(settings, args),
            Command::Docs(args) => commands::docs::run(settings, args),
            Command::Clean(args) => commands::clean::run(&settings, args),
            Command::Parse => commands::compile::parse(settings),
            Command::GenArchive(_) => Ok(0),
        });
    finish(result)
}

fn finish(result: Result<i32, Error>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("{err}");
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
        }
    }
}
