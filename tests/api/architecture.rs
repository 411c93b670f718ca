//! The shape of the code, checked: no module of any crate uses a module that uses it back.
//!
//! Each crate's modules are read from its `src` folder. A module uses another when it names it
//! in a path (`use crate::leads::pool;`, `crate::records::Ctx`, `super::Page`, or a child
//! module's own name, as `mod.rs` files do). A path into a module's items counts as using the
//! module that defines them, found as the longest module prefix of the path. The crate root is
//! left out: it only declares the top-level modules and re-exports their names for other crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every crate of the workspace, by the folder of its sources.
const CRATES: &[&str] = &[
    "src",
    "crates/xiansuo-core/src",
    "crates/xiansuo-store/src",
    "crates/xiansuo-app/src",
    "crates/xiansuo-web/src",
    "crates/xiansuo-bench/src",
];

#[test]
fn no_module_uses_a_module_that_uses_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cycles = Vec::new();
    for krate in CRATES {
        let modules = read_modules(&root.join(krate));
        assert!(!modules.is_empty(), "{krate} has sources");
        let uses = uses(&modules);
        for cycle in strongly_connected(&uses) {
            cycles.push(format!("{krate}: {}", cycle.join(" ⇄ ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that use each other:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn a_cycle_is_found_when_there_is_one() {
    let modules: BTreeMap<String, String> = [
        ("", "mod a; mod b;"),
        ("a", "use crate::b::Thing;"),
        ("b", "pub struct Thing; fn f() { crate::a::g() }"),
        ("c", "mod d; fn f() { d::g() }"),
        ("c::d", "use super::f;"),
        ("e", "use crate::a;"),
    ]
    .into_iter()
    .map(|(m, s)| (m.to_owned(), s.to_owned()))
    .collect();
    let cycles = strongly_connected(&uses(&modules));
    assert_eq!(
        cycles,
        vec![
            vec!["a".to_owned(), "b".to_owned()],
            vec!["c".to_owned(), "c::d".to_owned()]
        ]
    );
}

/// Module path (`leads::pool`, `` for the root) → its source without comments.
fn read_modules(src: &Path) -> BTreeMap<String, String> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(src).expect("a file under src");
            let mut parts: Vec<String> = relative
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            (parts.join("::"), without_comments(&text))
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The source with line comments (and so doc comments) and its unit tests removed: a
/// `#[cfg(test)]` module at the end of a file names its parent `super`.
fn without_comments(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Module → the modules of the same crate it uses.
fn uses(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    modules
        .iter()
        .map(|(module, text)| {
            let own: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
            let mut used = BTreeSet::new();
            for path in paths(text, module, modules) {
                let absolute = absolute(&path, &own);
                if let Some(target) = (1..=absolute.len())
                    .rev()
                    .map(|n| absolute[..n].join("::"))
                    .find(|candidate| modules.contains_key(candidate))
                {
                    if target != *module {
                        used.insert(target);
                    }
                }
            }
            (module.clone(), used)
        })
        .collect()
}

/// Every path in `text` that starts at `crate`, `super` or `self`, with `use` trees expanded,
/// and every path starting with the name of one of the module's own children.
fn paths(text: &str, module: &str, modules: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = find_word(rest, "use") {
        let after = &rest[at + 3..];
        let Some(end) = after.find(';') else { break };
        let tree = without_aliases(&after[..end]);
        if ["crate", "super", "self"]
            .iter()
            .any(|start| tree.starts_with(&format!("{start}::")))
        {
            expand(&tree, &mut Vec::new(), &mut out);
        }
        rest = &after[end..];
    }
    let children: Vec<&str> = modules
        .keys()
        .filter_map(|m| {
            let tail = if module.is_empty() {
                m.as_str()
            } else {
                m.strip_prefix(module)?.strip_prefix("::")?
            };
            (!tail.is_empty() && !tail.contains("::")).then_some(tail)
        })
        .collect();
    let starts: Vec<String> = ["crate", "super"]
        .iter()
        .map(|s| s.to_string())
        .chain(children.iter().map(|c| c.to_string()))
        .collect();
    for start in &starts {
        let needle = format!("{start}::");
        let mut from = 0;
        while let Some(found) = text[from..].find(&needle) {
            let at = from + found;
            from = at + needle.len();
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let raw = text[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default();
            if text[at + raw.len()..].starts_with('{') {
                // A `use` tree, read whole above.
                continue;
            }
            let path: Vec<String> = raw
                .split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect();
            let path = if start == "crate" || start == "super" {
                path
            } else {
                std::iter::once("self".to_owned()).chain(path).collect()
            };
            out.push(path);
        }
    }
    out
}

/// A `use` tree without spaces and without its `as` renamings.
fn without_aliases(tree: &str) -> String {
    let mut out = String::new();
    let mut alias = false;
    for word in tree.split_whitespace() {
        if alias {
            // The new name, and whatever closes or follows it (`as db},`).
            out.push_str(word.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_'));
            alias = false;
        } else if word == "as" {
            alias = true;
        } else {
            out.push_str(word);
        }
    }
    out
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && after.is_some_and(char::is_whitespace)
        {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Expands a `use` tree without spaces (`crate::a::{b,c::{d,e}}`) into its paths.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(open) = tree.find('{') else {
        let mut path = prefix.clone();
        path.extend(
            tree.split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
        out.push(path);
        return;
    };
    let head: Vec<String> = tree[..open]
        .split("::")
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let depth = prefix.len();
    prefix.extend(head);
    let mut level = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                expand(&inner[start..i], prefix, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        expand(&inner[start..], prefix, out);
    }
    prefix.truncate(depth);
}

/// A path from `crate`, `super` or `self`, made absolute from the module `own`.
fn absolute(path: &[String], own: &[&str]) -> Vec<String> {
    let mut base: Vec<String> = own.iter().map(|s| s.to_string()).collect();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        _ => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
    }
    base.extend(rest.iter().filter(|p| p.as_str() != "self").cloned());
    base
}

/// The groups of two or more modules that use each other, directly or through others
/// (Tarjan's strongly connected components), each sorted, in order.
fn strongly_connected(uses: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        uses: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        groups: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let uses = s.uses;
        for w in uses.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.groups.push(group);
            }
        }
    }
    let mut state = State {
        uses,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for module in uses.keys().filter(|m| !m.is_empty()) {
        if !state.index.contains_key(module.as_str()) {
            visit(&mut state, module);
        }
    }
    state.groups.sort();
    state.groups
}
