//! The `duban` command: serve the API (the default), migrate, manage accounts, print the
//! OpenAPI document.

use clap::{Parser, Subcommand};
use duban::bootstrap::{self, AccountSpec};
use duban::domain::role::Role;
use duban::{app, Application, Settings};
use std::io::Read;
use std::process::ExitCode;

/// duban (督办): assign, report, urge and summarise the rule-of-law tasks of a city.
///
/// Settings come from DUBAN_* environment variables (see the README); DUBAN_CONFIG names an
/// optional TOML file with the same settings.
#[derive(Parser)]
#[command(name = "duban", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): migrate, load the demo data unless turned off, listen on
    /// DUBAN_BIND.
    Serve {
        /// Start without the demo data and demo accounts (same as DUBAN_DEMO=false).
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document (the content of openapi/openapi.json).
    Openapi,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account, or reset its password if it exists. Reads the password from
    /// standard input.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Role: admin, coordinator, unit_manager, unit_reporter, viewer or service.
        #[arg(long)]
        role: String,
        /// The unit's name or alias (required for unit_manager, unit_reporter, service).
        #[arg(long)]
        unit: Option<String>,
        /// Name shown to people (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password (or client secret) from standard input; required, so that it never
        /// appears in the shell history or the process list.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password for an existing person's account, read from standard input.
    Passwd {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn read_secret() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    let s = s.trim_end_matches(['\r', '\n']).to_owned();
    if s.is_empty() {
        return Err("password: standard input was empty".into());
    }
    Ok(s)
}

fn run(cli: Cli) -> Result<(), String> {
    let mut settings = Settings::from_env().map_err(|e| e.to_string())?;
    duban::telemetry::check_filter(&settings.log)?;
    duban::telemetry::init_logging(&settings);
    match cli.command.unwrap_or(Command::Serve { no_demo: false }) {
        Command::Serve { no_demo } => {
            if no_demo {
                settings.demo = false;
            }
            let bind = settings.bind;
            let rt = actix_web::rt::System::new();
            rt.block_on(async move {
                let app = Application::build(settings)?;
                tracing::info!(%bind, port = app.port(), "duban serving; API docs at /docs");
                app.run().await.map_err(|e| e.to_string())
            })
        }
        Command::Migrate => {
            app::open_database(&settings)?;
            println!("migrations are current");
            Ok(())
        }
        Command::User { command } => {
            let db = app::open_database(&settings)?;
            let mut conn = db.get().map_err(|e| e.to_string())?;
            match command {
                UserCommand::Add {
                    username,
                    role,
                    unit,
                    display_name,
                    ..
                } => {
                    let role = Role::parse(&role).ok_or_else(|| {
                        format!("role: {role:?} is not one of admin, coordinator, unit_manager, unit_reporter, viewer, service")
                    })?;
                    let spec = AccountSpec {
                        display_name: display_name.unwrap_or_else(|| username.clone()),
                        username,
                        role,
                        unit,
                        secret: read_secret()?,
                    };
                    let outcome = bootstrap::ensure_account(&mut conn, &spec)?;
                    println!("{outcome:?}");
                    Ok(())
                }
                UserCommand::Passwd { username, .. } => {
                    bootstrap::set_password(&mut conn, &username, &read_secret()?)?;
                    println!("password changed; the account's sessions are ended");
                    Ok(())
                }
            }
        }
        Command::Openapi => {
            let doc = duban::api::openapi();
            println!("{}", doc.to_pretty_json().map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("duban: {e}");
            ExitCode::FAILURE
        }
    }
}
