//! The OpenAPI document against the server: every method and path the server routes under
//! `/api` is in the document. The paths are read from the web crate's route declarations (the
//! record routes once per table); which methods each path answers is asked of the running
//! server, which answers 405 to a method it does not route.

use crate::support::{Backend, TestApp};
use std::collections::BTreeSet;
use std::path::Path;
use xiansuo_app::records::schema::TABLES;

pub(crate) const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

#[tokio::test]
async fn every_routed_method_and_path_is_in_the_openapi_document() {
    let app = TestApp::start(Backend::Sqlite)
        .await
        .expect("a SQLite test app");
    let document: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();

    let paths = routed_paths();
    assert!(paths.len() > 80, "found {} paths", paths.len());
    let client = reqwest::Client::new();
    let mut missing = Vec::new();
    for path in &paths {
        let url = format!("{}{}", app.base, concrete(path, "1"));
        for method in METHODS {
            let answer = client
                .request(method.parse().unwrap(), &url)
                .send()
                .await
                .unwrap();
            if answer.status() == reqwest::StatusCode::METHOD_NOT_ALLOWED {
                continue;
            }
            if !documented.contains(&(method.to_string(), path.clone())) {
                missing.push(format!("{method} {path} ({})", answer.status()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routed but not in the OpenAPI document:\n{}",
        missing.join("\n")
    );
}

/// Every path under `/api` that the web crate declares a route for.
pub(crate) fn routed_paths() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/xiansuo-web/src");
    let mut paths = BTreeSet::new();
    let mut files = Vec::new();
    collect(&src, &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for literal in string_literals(&text) {
            let literal = literal.replace("{{", "{").replace("}}", "}");
            if let Some(rest) = literal.strip_prefix("/api/v1/{}") {
                // A route of every table that has it, `format!`ted with the table's name.
                for table in TABLES {
                    paths.insert(format!("/api/v1/{}{rest}", table.name));
                }
            } else if literal.starts_with("/api/") {
                paths.insert(literal);
            } else if let Some(rest) = literal.strip_prefix("{base}") {
                // A record route: `/api/v1/{table}` and what follows it, for every table.
                for table in TABLES {
                    paths.insert(format!("/api/v1/{}{rest}", table.name));
                }
            }
        }
    }
    for table in TABLES {
        paths.insert(format!("/api/v1/{}", table.name));
    }
    // Literals that are paths but not routes: links in documents and messages.
    paths.retain(|p| !p.contains(' ') && !p.contains('?') && !p.ends_with('/'));
    paths
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The contents of the string literals in `text` that name a route: in a `.route(` call, as the
/// `path` of a `#[utoipa::path]`, or first in the invocation of a macro that writes handlers.
fn string_literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let mut call = rest.trim_start();
        while call.starts_with("//") {
            call = call
                .split_once('\n')
                .map_or("", |(_, next)| next)
                .trim_start();
        }
        let call = call.strip_prefix("&format!(").unwrap_or(call).trim_start();
        if let Some(body) = call.strip_prefix('"') {
            if let Some(end) = body.find('"') {
                out.push(body[..end].to_owned());
            }
        }
    }
    // Handlers that document themselves are routed at the path of their `#[utoipa::path]`.
    let mut rest = text;
    while let Some(at) = rest.find("#[utoipa::path(") {
        rest = &rest[at..];
        if let Some(body) = rest
            .find("path = \"")
            .map(|p| &rest[p + "path = \"".len()..])
        {
            if let Some(end) = body.find('"') {
                out.push(body[..end].to_owned());
            }
        }
        rest = &rest[1..];
    }
    // Handlers written once per record type by a macro of their module are routed at the path
    // the invocation names first (`record_files!(LEADS, "/api/v1/leads/{id}/attachments", …)`).
    let mut rest = text;
    while let Some(at) = rest.find("!(\n") {
        rest = &rest[at + "!(\n".len()..];
        let invocation = &rest[..rest.find(");").unwrap_or(rest.len())];
        if let Some(body) = invocation.find("\"/api/").map(|p| &invocation[p + 1..]) {
            if let Some(end) = body.find('"') {
                out.push(body[..end].to_owned());
            }
        }
    }
    out
}

/// A path with each `{parameter}` replaced by `value`, which reaches the handler.
pub(crate) fn concrete(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(value);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}
