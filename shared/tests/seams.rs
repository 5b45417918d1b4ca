//! The dependency rules between the library's modules (the module map in lib.rs), checked on
//! the source itself so they stay true:
//!
//! - `providers` imports neither `app` nor `http`: a provider reads its format into domain
//!   values and its own errors; the use cases map them.
//! - `app` names no adapter: no concrete provider (`providers::generic`, `::tosspayments`,
//!   `::statement`, `::messaging`, `::alerting`), no `store`, `aws`, `local`, `net` or `http`.
//!   It is written against `ports`, and the adapters are chosen where the app is wired.
//! - `http` names no concrete provider: which header a provider signs with is its reader's
//!   business.
//!
//! Every path is resolved the way the compiler would find it: `use` trees with braces,
//! `self`, renames and globs; paths in code (`crate::app::AppError`); `super::` and `self::`
//! from the module the path is written in (inline `mod` blocks included); names a `use`
//! brought in (`use crate::providers; providers::generic::read`); and a module's children by
//! their bare name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The top-level module a rule applies to, the module paths it must not name, and why.
const RULES: [(&str, &[&str], &str); 3] = [
    ("providers", &["crate::app", "crate::http"], "providers import neither app nor http"),
    (
        "app",
        &[
            "crate::providers::generic",
            "crate::providers::tosspayments",
            "crate::providers::statement",
            "crate::providers::messaging",
            "crate::providers::alerting",
            "crate::store",
            "crate::aws",
            "crate::local",
            "crate::net",
            "crate::http",
        ],
        "app names no concrete provider, store, AWS, local, net or http module",
    ),
    (
        "http",
        &[
            "crate::providers::generic",
            "crate::providers::tosspayments",
            "crate::providers::statement",
            "crate::providers::messaging",
            "crate::providers::alerting",
        ],
        "http names no concrete provider",
    ),
];

/// One forbidden path, where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Offence {
    line: usize,
    path: String,
}

/// The source with comments, string and character literals blanked out (newlines kept, so
/// line numbers stay right): a path inside a doc comment or a message is not a dependency.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && starts_literal(&chars[..i]) {
            // A raw string: r"…", r#"…"#, with as many hashes closing as opened.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#'))) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(chars.len());
            out.extend(chars[i..end].iter().map(|c| blank(*c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let skip = if chars[i] == '\\' { 2 } else { 1 };
                for k in 0..skip {
                    if let Some(c) = chars.get(i + k) {
                        out.push(blank(*c));
                    }
                }
                i += skip;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{7}'); a lifetime ('a) has no closing quote.
            let close = if next == Some('\\') {
                chars.get(i + 3..).and_then(|rest| rest.iter().position(|c| *c == '\'')).map(|p| i + 3 + p)
            } else {
                (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            match close {
                Some(end) => {
                    out.extend(chars[i..=end].iter().map(|c| blank(*c)));
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether an `r` after `before` opens a literal (`r"…"`, `br"…"`) rather than ending a name.
fn starts_literal(before: &[char]) -> bool {
    let name_char = |c: &char| c.is_alphanumeric() || *c == '_';
    match before {
        [.., b, 'b'] if !name_char(b) => true,
        ['b'] => true,
        [.., last] => !name_char(last),
        [] => true,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other,
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            // `r#type`: a raw identifier is the identifier.
            if c == 'r' && chars.get(i + 1) == Some(&'#') && chars.get(i + 2).is_some_and(|c| c.is_alphabetic() || *c == '_') {
                i += 2;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let ident: String = chars[start..i].iter().collect();
            out.push((Token::Ident(ident), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            let token = match c {
                '{' => Token::Open,
                '}' => Token::Close,
                ',' => Token::Comma,
                ';' => Token::Semi,
                '*' => Token::Star,
                _ => Token::Other,
            };
            out.push((token, line));
            i += 1;
        }
    }
    out
}

/// What the checker needs to know about the crate's modules.
trait Modules {
    /// Whether `path` (`crate::app::deposits`) is a module with a file of its own.
    fn exists(&self, path: &str) -> bool;
}

struct SourceTree(PathBuf);

impl Modules for SourceTree {
    fn exists(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix("crate::") else { return false };
        let relative: PathBuf = rest.split("::").collect();
        self.0.join(&relative).with_extension("rs").is_file() || self.0.join(&relative).join("mod.rs").is_file()
    }
}

struct Resolver<'a> {
    modules: &'a dyn Modules,
    /// Names brought in by `use` in this file, to the paths they stand for.
    aliases: BTreeMap<String, String>,
}

impl Resolver<'_> {
    /// The full path `segments` stand for, written in `module`; `None` for a path outside the
    /// crate (`std::…`, `serde_json::…`) or an item that is not a module path at all.
    fn resolve(&self, module: &str, segments: &[String]) -> Option<String> {
        let (first, rest) = segments.split_first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => vec!["crate".into()],
            "self" => module.split("::").map(str::to_owned).collect(),
            "super" => {
                let mut base: Vec<String> = module.split("::").map(str::to_owned).collect();
                base.pop();
                base
            }
            name => {
                let child = format!("{module}::{name}");
                if let Some(target) = self.aliases.get(name) {
                    target.split("::").map(str::to_owned).collect()
                } else if self.modules.exists(&child) {
                    child.split("::").map(str::to_owned).collect()
                } else {
                    return None;
                }
            }
        };
        for segment in rest {
            match segment.as_str() {
                "super" => {
                    base.pop();
                }
                "self" => {}
                other => base.push(other.to_owned()),
            }
        }
        Some(base.join("::"))
    }
}

/// Expands a `use` tree starting at `tokens[*at]`, up to the `;`, into (path, name bound, line).
/// A glob binds no name and ends in `*`.
fn use_tree(tokens: &[(Token, usize)], at: &mut usize, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>, usize)>) {
    let mut path = prefix.to_vec();
    let mut line = tokens.get(*at).map(|t| t.1).unwrap_or(0);
    while let Some((token, l)) = tokens.get(*at) {
        match token {
            Token::Ident(name) if name == "as" => {
                *at += 1;
                if let Some((Token::Ident(alias), _)) = tokens.get(*at) {
                    *at += 1;
                    let bound = path.clone();
                    let path = if bound.last().is_some_and(|s| s == "self") { bound[..bound.len() - 1].to_vec() } else { bound };
                    out.push((path, Some(alias.clone()).filter(|a| a != "_"), line));
                }
                return;
            }
            Token::Ident(name) => {
                line = *l;
                path.push(name.clone());
                *at += 1;
            }
            Token::PathSep => *at += 1,
            Token::Star => {
                *at += 1;
                path.push("*".into());
                out.push((path, None, line));
                return;
            }
            Token::Open => {
                *at += 1;
                loop {
                    use_tree(tokens, at, &path, out);
                    match tokens.get(*at).map(|t| &t.0) {
                        Some(Token::Comma) => {
                            *at += 1;
                            if matches!(tokens.get(*at).map(|t| &t.0), Some(Token::Close)) {
                                *at += 1;
                                return;
                            }
                        }
                        Some(Token::Close) => {
                            *at += 1;
                            return;
                        }
                        _ => return,
                    }
                }
            }
            _ => break,
        }
    }
    if path.len() > prefix.len() {
        let (bound, name) = match path.last().map(String::as_str) {
            Some("self") => (path[..path.len() - 1].to_vec(), path.get(path.len().wrapping_sub(2)).cloned()),
            _ => (path.clone(), path.last().cloned()),
        };
        out.push((bound, name, line));
    }
}

/// Every path the file names, resolved, with its line.
fn named_paths(module: &str, source: &str, modules: &dyn Modules) -> Vec<(usize, String)> {
    let tokens = tokens(&code_only(source));
    let mut resolver = Resolver { modules, aliases: BTreeMap::new() };
    // First the `use` declarations (a name may be used before its `use`), then every path.
    let mut uses = Vec::new();
    let mut scopes: Vec<(String, usize)> = vec![(module.to_owned(), 0)];
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let current = scopes.last().map(|s| s.0.clone()).unwrap_or_default();
        match &tokens[i].0 {
            Token::Ident(word) if word == "mod" => {
                if let (Some((Token::Ident(name), _)), Some((Token::Open, _))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                    depth += 1;
                    scopes.push((format!("{current}::{name}"), depth));
                    i += 3;
                    continue;
                }
            }
            Token::Ident(word) if word == "use" => {
                let mut at = i + 1;
                let mut expanded = Vec::new();
                use_tree(&tokens, &mut at, &[], &mut expanded);
                uses.extend(expanded.into_iter().map(|(path, name, line)| (current.clone(), path, name, line)));
                i = at;
                continue;
            }
            Token::Open => depth += 1,
            Token::Close => {
                if scopes.len() > 1 && scopes.last().is_some_and(|s| s.1 == depth) {
                    scopes.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    let mut found = Vec::new();
    for (scope, path, name, line) in &uses {
        let glob = path.last().is_some_and(|s| s == "*");
        let segments = if glob { &path[..path.len() - 1] } else { &path[..] };
        if let Some(full) = resolver.resolve(scope, segments) {
            if let Some(name) = name.as_ref().filter(|_| !glob) {
                resolver.aliases.insert(name.clone(), full.clone());
            }
            found.push((*line, if glob { format!("{full}::*") } else { full }));
        }
    }
    // Paths in code: `a::b::c` not itself part of a longer path or a `use`.
    let mut scopes: Vec<(String, usize)> = vec![(module.to_owned(), 0)];
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let current = scopes.last().map(|s| s.0.clone()).unwrap_or_default();
        match &tokens[i].0 {
            Token::Ident(word) if word == "mod" => {
                if let (Some((Token::Ident(name), _)), Some((Token::Open, _))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                    depth += 1;
                    scopes.push((format!("{current}::{name}"), depth));
                    i += 3;
                    continue;
                }
            }
            Token::Ident(word) if word == "use" => {
                while i < tokens.len() && tokens[i].0 != Token::Semi {
                    i += 1;
                }
            }
            Token::Ident(first) if i == 0 || tokens[i - 1].0 != Token::PathSep => {
                let line = tokens[i].1;
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while let (Some((Token::PathSep, _)), Some((Token::Ident(next), _))) = (tokens.get(j), tokens.get(j + 1)) {
                    segments.push(next.clone());
                    j += 2;
                }
                if segments.len() > 1
                    && let Some(full) = resolver.resolve(&current, &segments)
                {
                    found.push((line, full));
                }
                i = j;
                continue;
            }
            Token::Open => depth += 1,
            Token::Close => {
                if scopes.len() > 1 && scopes.last().is_some_and(|s| s.1 == depth) {
                    scopes.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Whether `path` names `forbidden` or something inside it, or globs a module that holds it.
fn reaches(path: &str, forbidden: &str) -> bool {
    let inside = path == forbidden || path.starts_with(&format!("{forbidden}::"));
    let glob = path.strip_suffix("::*").is_some_and(|base| forbidden.starts_with(&format!("{base}::")));
    inside || glob
}

fn offences(module: &str, source: &str, modules: &dyn Modules, forbidden: &[&str]) -> Vec<Offence> {
    let mut out: Vec<Offence> = named_paths(module, source, modules)
        .into_iter()
        .filter(|(_, path)| forbidden.iter().any(|f| reaches(path, f)))
        .map(|(line, path)| Offence { line, path })
        .collect();
    out.dedup();
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/app/deposits.rs` is `crate::app::deposits`; `src/app/mod.rs` is `crate::app`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_owned();
    }
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    std::iter::once("crate".to_owned()).chain(parts).collect::<Vec<_>>().join("::")
}

#[test]
fn modules_depend_only_inward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let tree = SourceTree(src.clone());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut report = Vec::new();
    for (top, forbidden, rule) in RULES {
        let mut checked = 0;
        for file in files.iter().filter(|f| f.strip_prefix(&src).is_ok_and(|r| r.starts_with(top))) {
            checked += 1;
            let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            for offence in offences(&module_of(&src, file), &source, &tree, forbidden) {
                report.push(format!(
                    "{}:{}: {} ({rule})",
                    file.strip_prefix(src.parent().expect("the crate")).unwrap_or(file).display(),
                    offence.line,
                    offence.path
                ));
            }
        }
        assert!(checked > 0, "no files under src/{top}: the rule checks nothing");
    }
    assert!(report.is_empty(), "modules name what they must not:\n{}", report.join("\n"));
}

/// A fixed module layout for checking the checker.
struct Layout;

impl Modules for Layout {
    fn exists(&self, path: &str) -> bool {
        ["crate::app", "crate::app::deposits", "crate::providers", "crate::providers::generic", "crate::http", "crate::store"].contains(&path)
    }
}

fn offending_lines(module: &str, source: &str) -> Vec<(usize, String)> {
    let forbidden = ["crate::app", "crate::http", "crate::store", "crate::providers::generic"];
    offences(module, source, &Layout, &forbidden).into_iter().map(|o| (o.line, o.path)).collect()
}

#[test]
fn every_way_of_naming_a_module_is_caught() {
    let source = "\
use crate::{app, domain};
use crate::{
    domain::Krw,
    http::dto::{Fields, amount},
};
fn f() -> crate::app::AppError { todo!() }
use crate::providers as p;
fn g() { p::generic::read(); }
use super::super::store::Table;
use crate::providers::{self, ProviderNotice};
fn h() { providers::generic::sign(); }
use crate::*;
";
    assert_eq!(
        offending_lines("crate::providers::tosspayments", source),
        vec![
            (1, "crate::app".to_owned()),
            (4, "crate::http::dto::Fields".to_owned()),
            (4, "crate::http::dto::amount".to_owned()),
            (9, "crate::store::Table".to_owned()),
            (12, "crate::*".to_owned()),
            (6, "crate::app::AppError".to_owned()),
            (8, "crate::providers::generic::read".to_owned()),
            (11, "crate::providers::generic::sign".to_owned()),
        ]
    );
}

#[test]
fn comments_strings_and_inline_modules_are_read_as_the_compiler_reads_them() {
    let source = r##"
//! Uses `crate::app::AppError` in prose only.
/* crate::http::x /* nested */ crate::store::y */
const TEXT: &str = "crate::app::not_code";
const RAW: &str = r#"crate::http::"quoted""#;
fn lifetime<'a>(x: &'a str) -> char { 'a' }
mod tests {
    use super::*;
    use super::super::generic::read;
}
fn after() { app::AppError; }
"##;
    assert_eq!(
        offending_lines("crate::providers::statement", source),
        vec![(9, "crate::providers::generic::read".to_owned())],
        "in `mod tests` of providers::statement, super::super is providers; a bare `app` in providers names nothing"
    );
    assert_eq!(offending_lines("crate", "fn f() { app::deposits::x(); }"), vec![(1, "crate::app::deposits::x".to_owned())], "a child module by its bare name");
}

/// Use cases answer a refused transaction by the name of the write that failed
/// (`repo::Transaction`, `Guard`), never by its position: a position changes meaning when a
/// write is inserted in front of it.
#[test]
fn use_cases_never_decide_by_a_writes_position() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let mut files = Vec::new();
    rust_files(&app, &mut files);
    files.sort();
    let mut report = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let code = code_only(&source);
        for (n, line) in code.lines().enumerate() {
            let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.contains("ConditionFailed{index") {
                report.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(!files.is_empty(), "no files under src/app: the rule checks nothing");
    assert!(report.is_empty(), "use cases decide by a write's position:\n{}", report.join("\n"));
}
