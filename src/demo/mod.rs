//! The demo: the coordinating office, the Chongqing Intellectual Property Office (the unit whose
//! 2019 report is the seed), and one account per role. In demo mode every start gives the demo
//! accounts fresh random passwords and prints them; nothing secret is stored in the repository.

use crate::auth::token::random_token;
use crate::bootstrap::{ensure_account, AccountSpec};
use crate::db::{write_tx, AnyConnection};
use crate::domain::role::Role;
use crate::domain::unit::UnitKind;
use crate::store::{self, units};

/// The coordinating office (依法治市办).
pub const OFFICE: &str = "中共重庆市委全面依法治市委员会办公室";
/// The seed's reporting unit.
pub const IPO: &str = "重庆市知识产权局";

const UNITS: [(&str, &str, UnitKind, &[&str]); 2] = [
    (
        OFFICE,
        "市委依法治市办",
        UnitKind::CoordinatingOffice,
        &["市委依法治市办", "依法治市办"],
    ),
    (
        IPO,
        "市知识产权局",
        UnitKind::CityDepartment,
        &["市知识产权局"],
    ),
];

const ACCOUNTS: [(&str, &str, Role, Option<&str>); 6] = [
    ("admin", "系统管理员", Role::Admin, None),
    (
        "coordinator",
        "依法治市办督办员",
        Role::Coordinator,
        Some(OFFICE),
    ),
    (
        "ipo-manager",
        "知识产权局法规处负责人",
        Role::UnitManager,
        Some(IPO),
    ),
    (
        "ipo-reporter",
        "知识产权局填报员",
        Role::UnitReporter,
        Some(IPO),
    ),
    ("auditor", "审计与领导查阅", Role::Viewer, None),
    ("ipo-system", "知识产权局业务系统", Role::Service, Some(IPO)),
];

fn ensure_units(c: &mut AnyConnection) -> Result<(), String> {
    write_tx(c, |c| {
        for (name, short, kind, aliases) in UNITS {
            if units::find_by_name_or_alias(c, name)?.is_some() {
                continue;
            }
            let now = store::now();
            let id = units::insert(
                c,
                &units::NewUnit {
                    name,
                    short_name: Some(short),
                    kind: kind.as_str(),
                    active: true,
                    created_at: now,
                    updated_at: now,
                },
            )?;
            let aliases: Vec<String> = aliases.iter().map(|a| a.to_string()).collect();
            units::replace_aliases(c, id, &aliases)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(|e| format!("demo units: {e}"))
}

/// Loads the demo units and (re)sets the demo accounts, printing their credentials.
pub fn load(c: &mut AnyConnection) -> Result<(), String> {
    ensure_units(c)?;
    let mut lines = Vec::new();
    for (username, display, role, unit) in ACCOUNTS {
        let secret: String = random_token().chars().take(20).collect();
        let spec = AccountSpec {
            username: username.into(),
            display_name: display.into(),
            role,
            unit: unit.map(str::to_owned),
            secret: secret.clone(),
        };
        ensure_account(c, &spec).map_err(|e| format!("demo account {username}: {e}"))?;
        lines.push(format!(
            "  {:<14} {:<14} {}",
            role.as_str(),
            username,
            secret
        ));
    }
    println!("duban demo mode (DUBAN_DEMO=false to turn off); accounts for this run:");
    println!(
        "  {:<14} {:<14} password / client_secret",
        "role", "username"
    );
    for l in lines {
        println!("{l}");
    }
    Ok(())
}
