//! The permissions contract: docs/PERMISSIONS.md states, for every routed API method and path,
//! whether an admin, a manager and a rep may call it. This test reads that table and calls
//! every route the web crate declares (the same list the OpenAPI check uses) as each of the
//! three: a "yes" must not be refused (any answer but 401, 403 and 5xx: a 404 for a record that
//! does not exist or a 422 for an empty body is being let in), a "no" must be a 403. A route
//! the table does not name fails, so a new endpoint cannot ship without a decision.

use crate::openapi::{concrete, routed_paths, METHODS};
use crate::support::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use xiansuo_core::role::Role;

crate::on_both_databases!(every_route_answers_each_role_as_the_permissions_table_says);

/// The roles in the table's column order.
const ROLES: [&str; 3] = ["admin", "manager", "rep"];

/// (method, path) → may [admin, manager, rep] call it.
type Table = BTreeMap<(String, String), [bool; 3]>;

/// The rows of docs/PERMISSIONS.md that start with an HTTP method.
fn documented() -> Table {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/PERMISSIONS.md");
    let text = std::fs::read_to_string(&file).expect("docs/PERMISSIONS.md");
    let mut table = Table::new();
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if cells.len() < 5 || !METHODS.contains(&cells[0]) {
            continue;
        }
        let may = |cell: &str| match cell.split_whitespace().next() {
            Some("yes") => true,
            Some("no") => false,
            _ => panic!("'{line}': each role's cell must start with yes or no"),
        };
        let key = (cells[0].to_owned(), cells[1].trim_matches('`').to_owned());
        let row = [may(cells[2]), may(cells[3]), may(cells[4])];
        assert!(table.insert(key, row).is_none(), "'{line}' is listed twice");
    }
    table
}

async fn every_route_answers_each_role_as_the_permissions_table_says(app: TestApp) {
    let table = documented();
    let team = app.team("华东区", None).await;
    let manager = app.user("manager", Role::Manager, Some(team)).await;
    let rep = app.user("rep", Role::Rep, Some(team)).await;
    // Reps first and admins last: an admin's call may change what the others would see.
    let callers = [(2, &rep.token), (1, &manager.token), (0, &app.admin_token)];
    let mut routed = Vec::new();
    let mut wrong = Vec::new();
    for path in routed_paths() {
        // An id no record has: the permission is decided before the record is looked up.
        let url = concrete(&path, "987654");
        for method in METHODS {
            let mut answers = Vec::new();
            for (role, token) in callers {
                let method: Method = method.parse().unwrap();
                let mut request = app
                    .client
                    .request(method.clone(), format!("{}{url}", app.base))
                    .bearer_auth(token);
                if method != Method::GET {
                    request = request.json(&json!({}));
                }
                let status = request.send().await.expect("the server answers").status();
                answers.push((role, status));
            }
            if answers
                .iter()
                .all(|(_, s)| *s == StatusCode::METHOD_NOT_ALLOWED)
            {
                continue;
            }
            let key = (method.to_string(), path.clone());
            routed.push(key.clone());
            let Some(row) = table.get(&key) else {
                let observed: Vec<String> = answers
                    .iter()
                    .rev()
                    .map(|(_, s)| s.as_u16().to_string())
                    .collect();
                wrong.push(format!(
                    "{method} {path}: not in docs/PERMISSIONS.md (admin, manager, rep answered {})",
                    observed.join(", ")
                ));
                continue;
            };
            for (role, status) in answers {
                let refused = status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED;
                let ok = if row[role] {
                    !refused && !status.is_server_error()
                } else {
                    status == StatusCode::FORBIDDEN
                };
                if !ok {
                    wrong.push(format!(
                        "{method} {path} as {}: {status}, but the table says {}",
                        ROLES[role],
                        if row[role] { "yes" } else { "no" }
                    ));
                }
            }
        }
    }
    for key in table.keys() {
        if !routed.contains(key) {
            wrong.push(format!("{} {}: in the table but not routed", key.0, key.1));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert!(routed.len() > 100, "found {} routes", routed.len());
}
