//! `ucsv account ...`: the accounts of the server, managed from the command line (who can
//! write the database may do anything: the first sys_admin is made here).

use super::Context;
use crate::cli::{AccountCommand, AccountFormat};
use crate::domain::accounts::{parse_tenant, Account, Accounts};
use crate::error::{Error, Result};

/// Runs an account command; returns the exit status.
pub fn run(ctx: &Context, command: &AccountCommand) -> Result<u8> {
    let store = ctx.store()?;
    let accounts = Accounts::new(&store);
    match command {
        AccountCommand::Add {
            username,
            role,
            tenants,
            password_stdin,
        } => {
            if !password_stdin {
                return Err(Error::Usage {
                    message: "the password is read from standard input: give --password-stdin".into(),
                    help: "e.g. `printf '%s\\n' \"$PW\" | ucsv account add admin --role sys_admin --password-stdin`".into(),
                });
            }
            let tenants = tenants
                .iter()
                .map(|t| parse_tenant(t))
                .collect::<Result<Vec<_>>>()?;
            let password = read_password()?;
            let account = accounts.add(username, &password, role, &tenants)?;
            ctx.say(&format!(
                "ucsv: added account {} ({})\n",
                account.username, account.role
            ));
        }
        AccountCommand::List { format } => {
            let (items, total) = accounts.list(0, None)?;
            print(&items, *format, Some(total))?;
        }
        AccountCommand::Show { username, format } => {
            print(&[accounts.show(username)?], *format, None)?;
        }
        AccountCommand::Delete { username } => {
            accounts.delete(username)?;
            ctx.say(&format!("ucsv: deleted account {username}\n"));
        }
        AccountCommand::SetPassword { username } => {
            let password = read_password()?;
            accounts.set_password(username, &password)?;
            ctx.say(&format!("ucsv: set the password of {username}\n"));
        }
        AccountCommand::SetRole { username, role } => {
            accounts.set_role(username, role)?;
            ctx.say(&format!("ucsv: {username} is {role}\n"));
        }
        AccountCommand::SetTenant { username, tenant } => {
            accounts.set_tenant(username, parse_tenant(tenant)?)?;
            ctx.say(&format!("ucsv: {username}: {tenant}\n"));
        }
        AccountCommand::Activate { username } => {
            accounts.set_active(username, true)?;
            ctx.say(&format!("ucsv: activated {username}\n"));
        }
        AccountCommand::Deactivate { username } => {
            accounts.set_active(username, false)?;
            ctx.say(&format!("ucsv: deactivated {username}\n"));
        }
        AccountCommand::Unlock { username } => {
            accounts.unlock(username)?;
            ctx.say(&format!("ucsv: unlocked {username}\n"));
        }
    }
    Ok(0)
}

/// The first line of standard input, without its line break (never echoed).
fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|source| Error::Input {
            path: "<stdin>".into(),
            source,
        })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Prints accounts: a table, or JSON (a list in Cloudify's paginated shape).
fn print(items: &[Account], format: AccountFormat, total: Option<u64>) -> Result<()> {
    let text = match format {
        AccountFormat::Json => {
            let value = match total {
                Some(total) => serde_json::json!({
                    "items": items,
                    "metadata": {"pagination": {"offset": 0, "size": items.len(), "total": total}}
                }),
                None => serde_json::to_value(&items[0]).unwrap_or_default(),
            };
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        AccountFormat::Table => {
            let mut s = format!(
                "{:<24} {:<10} {:<8} {:<7} {:<24} {}\n",
                "username", "role", "active", "locked", "last_login_at", "tenants"
            );
            for a in items {
                let tenants: Vec<String> =
                    a.tenants.iter().map(|(e, r)| format!("{e}={r}")).collect();
                s += &format!(
                    "{:<24} {:<10} {:<8} {:<7} {:<24} {}\n",
                    a.username,
                    a.role,
                    a.active,
                    a.is_locked,
                    a.last_login_at.as_deref().unwrap_or("-"),
                    tenants.join(",")
                );
            }
            s
        }
    };
    super::stdout(text.as_bytes())
}
