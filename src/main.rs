//! The `duban` command: serve the API (the default), migrate, manage accounts, print the
//! OpenAPI document, generate bench data.

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
    /// Maintain the stored standing of assignments.
    Standing {
        #[command(subcommand)]
        command: StandingCommand,
    },
    /// Manage accounts from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document (the content of openapi/openapi.json).
    Openapi,
    /// Fill a freshly migrated database (no plans yet) with a municipality for the benchmarks
    /// in bench/, in bulk, and print what was made as JSON.
    ///
    /// The city has a fixed size: --units units (the office, city departments, district
    /// governments and their departments) in unit groups, and one published plan for the current
    /// year of the seed's shape (8 sections, 44 tasks, about 400 measures) whose measures go to
    /// lead units and, through the groups, to participants: --assignments monthly assignments.
    /// --reports says how much history exists: reports are filled month by month from January
    /// (month 1 for every assignment, then month 2, ...) up to the last month that has ended,
    /// so 10^4, 10^5 and 10^6 reports are the same city at three moments of its year; what the
    /// months elapsed cannot hold goes into earlier years' closed plans. Reports are drafted,
    /// sent (most on time, some late), some returned and sent again (2-3 revisions), some
    /// accepted, some never sent; the office urges some late work; every step has the audit
    /// entry the API writes. The standing of each assignment is then computed by the server's
    /// rule. Units sign for their assignments within a week (a few never do); some asked for
    /// more time and were granted it or refused.
    ///
    /// --accounts K creates the coordinator `bench-office` and K department-system service
    /// accounts `bench-unit-1`..`bench-unit-K` of units with assignments, all with the password
    /// in DUBAN_BENCH_PASSWORD (required when K > 0).
    BenchData {
        /// Reports in all, drafts included.
        #[arg(long)]
        reports: u64,
        /// Units in the city.
        #[arg(long, default_value_t = 1600)]
        units: usize,
        /// Monthly assignments of each plan.
        #[arg(long, default_value_t = 100_000)]
        assignments: usize,
        /// Service accounts to create besides `bench-office` (0: no accounts at all).
        #[arg(long, default_value_t = 64)]
        accounts: usize,
        /// Seed of the random stream: the same seed on the same day gives the same data.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
    },
    /// Import a summary table (CSV, the columns of the office's table) into a new or an empty
    /// draft plan; all or nothing. Prints the resolution report as JSON.
    Import {
        /// The CSV file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Import into this existing empty draft plan.
        #[arg(long, conflicts_with_all = ["title", "year"])]
        plan_id: Option<i64>,
        /// Create a new draft plan with this title.
        #[arg(long, requires = "year")]
        title: Option<String>,
        /// The new plan's year.
        #[arg(long, requires = "title")]
        year: Option<i32>,
        /// Only resolve and count; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import even when some unit names cannot be resolved.
        #[arg(long)]
        allow_unresolved: bool,
        /// The unit (name or alias) whose answers fill the last column; they become its
        /// submitted reports.
        #[arg(long)]
        answers_unit: Option<String>,
        /// Due date of the assignments (default: 31 December of the plan's year).
        #[arg(long)]
        due_date: Option<chrono::NaiveDate>,
        /// Reporting cycle: once, monthly, quarterly, half_yearly or yearly (default yearly).
        #[arg(long, default_value = "yearly")]
        cycle: String,
    },
    /// Print a plan's summary table as CSV (as the HTTP export writes it: a byte-order mark,
    /// cells a spreadsheet would evaluate behind a '): one unit's answers, or consolidated.
    Export {
        /// The plan.
        #[arg(long)]
        plan_id: i64,
        /// The unit (name or alias) whose answers fill the last column.
        #[arg(long)]
        unit: Option<String>,
    },
}

#[derive(Subcommand)]
enum StandingCommand {
    /// Migrate, then compute the standing of every assignment that has none (rows loaded with
    /// plain SQL, or from before standings were kept), in one transaction. Prints how many.
    Backfill,
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
        Command::Standing {
            command: StandingCommand::Backfill,
        } => {
            let db = app::open_database(&settings)?;
            let mut conn = db.get().map_err(|e| e.to_string())?;
            let started = std::time::Instant::now();
            let filled = duban::db::write_tx(&mut conn, duban::store::standing::backfill)
                .map_err(|e: diesel::result::Error| format!("standing backfill failed: {e}"))?;
            println!(
                "computed the standing of {filled} assignment(s) in {:.1} s",
                started.elapsed().as_secs_f64()
            );
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
                        scopes: None,
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
        Command::Import {
            file,
            plan_id,
            title,
            year,
            dry_run,
            allow_unresolved,
            answers_unit,
            due_date,
            cycle,
        } => {
            let db = app::open_database(&settings)?;
            let mut conn = db.get().map_err(|e| e.to_string())?;
            let text = std::fs::read(&file)
                .map_err(|e| format!("file: cannot read {}: {e}", file.display()))?;
            let rows = duban::domain::table::read_csv(&text).map_err(|errs| {
                errs.iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
            let cycle = duban::domain::assignment::Cycle::parse(&cycle)
                .ok_or_else(|| format!("cycle: {cycle:?} is not a cycle"))?;
            let report = duban::db::write_tx(&mut conn, |c| {
                use duban::error::ApiError;
                use duban::store::{plans, units};
                let plan = match (plan_id, &title, year) {
                    (Some(id), _, _) => duban::domain::ids::PlanId(id),
                    (None, Some(t), Some(y)) => plans::insert(c, t, y, None, duban::store::now())?,
                    _ => {
                        return Err(ApiError::invalid(
                            "plan",
                            "give --plan-id, or --title and --year",
                        ))
                    }
                };
                let year = plans::find(c, plan)?
                    .ok_or_else(|| ApiError::NotFound(format!("no plan {plan}")))?
                    .year;
                let answers = match &answers_unit {
                    Some(name) => Some(
                        units::find_by_name_or_alias(c, name)?
                            .ok_or_else(|| {
                                ApiError::invalid(
                                    "answers-unit",
                                    format!("no unit is named {name}"),
                                )
                            })?
                            .id,
                    ),
                    None => None,
                };
                let opts = duban::tables::ImportOptions {
                    dry_run,
                    allow_unresolved,
                    answers_unit: answers,
                    due_date: due_date
                        .or_else(|| chrono::NaiveDate::from_ymd_opt(year, 12, 31))
                        .ok_or_else(|| ApiError::invalid("due-date", "cannot be derived"))?,
                    cycle,
                    by: None,
                    submitted_at: None,
                    made_at: None,
                };
                let report = duban::tables::import_table(c, plan, &rows, &opts)?;
                if dry_run {
                    // Nothing was written, but a plan created for the dry run must not stay.
                    return Err(ApiError::Conflict {
                        detail: serde_json::to_string_pretty(&report).unwrap_or_default(),
                        field: None,
                    });
                }
                Ok(report)
            });
            match report {
                Ok(r) => println!(
                    "{}",
                    serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
                ),
                Err(duban::error::ApiError::Conflict {
                    detail,
                    field: None,
                }) if dry_run => println!("{detail}"),
                Err(duban::error::ApiError::Validation(errs)) => {
                    return Err(errs
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("\n"))
                }
                Err(e) => return Err(e.to_string()),
            }
            Ok(())
        }
        Command::Export { plan_id, unit } => {
            let db = app::open_database(&settings)?;
            let mut conn = db.get().map_err(|e| e.to_string())?;
            let answers = match unit {
                Some(name) => duban::tables::Answers::Unit(
                    duban::store::units::find_by_name_or_alias(&mut conn, &name)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("unit: no unit is named {name}"))?
                        .id,
                ),
                None => duban::tables::Answers::Consolidated,
            };
            let rows = duban::tables::export_table(
                &mut conn,
                duban::domain::ids::PlanId(plan_id),
                answers,
                duban::store::reports::Reader::Office,
            )
            .map_err(|e| e.to_string())?;
            print!("{}", duban::domain::table::write_csv(&rows));
            Ok(())
        }
        Command::BenchData {
            reports,
            units,
            assignments,
            accounts,
            seed,
        } => {
            let db = app::open_database(&settings)?;
            let mut conn = db.get().map_err(|e| e.to_string())?;
            let options = duban::benchdata::Options {
                reports,
                units,
                assignments,
                accounts,
                password: std::env::var("DUBAN_BENCH_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty()),
                seed,
                now: duban::store::now(),
                progress: true,
            };
            let summary = duban::benchdata::run(&mut conn, &options)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Command::Openapi => {
            let doc = duban::api::openapi();
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
            );
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
