//! Every storage key is built in `repo` (docs/storage.md lists them all): no key format lives
//! anywhere else. This scans the library outside `repo/`, the CLI and the Lambda functions for
//! what builds a key, and names each find by file and line:
//!
//! - a string literal that starts with a key prefix: capitals or `_`, then `#` (`"LQ#…`,
//!   `"ALERT#…`, `"MCH#`);
//! - `Key::new(` or a `Key { … }` literal (the store adapters and the ports, which turn stored
//!   `pk`/`sk` strings back into keys, may);
//! - the item builder, which is private to `repo`.

use std::path::{Path, PathBuf};

/// Where keys are read back from stored strings: `Key::new` is theirs to call.
const KEY_READERS: [&str; 2] = ["shared/src/store/", "shared/src/ports.rs"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The key prefix a literal on this line starts with (`"LQ#` → `LQ#`), if any.
fn key_prefix(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    for (i, _) in line.match_indices('"') {
        let name: Vec<u8> = bytes[i + 1..].iter().copied().take_while(|b| b.is_ascii_uppercase() || *b == b'_').collect();
        if name.first().is_some_and(u8::is_ascii_uppercase) && bytes.get(i + 1 + name.len()) == Some(&b'#') {
            return Some(format!("{}#", String::from_utf8_lossy(&name)));
        }
    }
    None
}

/// `pattern` on the line as the start of a word (`Key::new(`, not `BlobKey::new(`).
fn has_word(line: &str, pattern: &str) -> bool {
    line.match_indices(pattern).any(|(i, _)| !line[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_'))
}

/// What on this line builds a key, in words.
fn findings(line: &str, reads_keys: bool) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    let mut found = Vec::new();
    if let Some(prefix) = key_prefix(code) {
        found.push(format!("key prefix {prefix}"));
    }
    if !reads_keys && (has_word(code, "Key::new(") || has_word(code, "Key {")) {
        found.push("builds a Key".to_owned());
    }
    if code.contains("ItemBuilder") {
        found.push("uses the item builder".to_owned());
    }
    found
}

/// Every key built outside `repo`, as `file:line: what: the line`.
fn keys_outside_repo() -> Vec<String> {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("shared/src"), &mut files);
    rust_files(&root.join("cli/src"), &mut files);
    rust_files(&root.join("functions"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        if relative.starts_with("shared/src/repo/") {
            continue;
        }
        let reads_keys = KEY_READERS.iter().any(|r| relative.starts_with(r));
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for what in findings(line, reads_keys) {
                found.push(format!("{relative}:{}: {what}: {}", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn no_key_is_built_outside_repo() {
    let found = keys_outside_repo();
    assert!(found.is_empty(), "{} key format(s) outside shared/src/repo/; move them into repo:\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_scan_sees_what_builds_a_key() {
    assert_eq!(findings(r#"    Key::new(format!("OPR#{name}"), "OPERATOR")"#, false), ["key prefix OPR#", "builds a Key"]);
    assert_eq!(findings(r#"let partition = format!("LQ#{queue}#dead");"#, false), ["key prefix LQ#"]);
    assert_eq!(findings(r#"raw.keys_with_prefix("MCH#", "PROFILE")"#, false), ["key prefix MCH#"]);
    assert_eq!(findings(r#"Write::Check { key: Key { pk, sk }, condition }"#, false), ["builds a Key"]);
    assert_eq!(findings(r#"repo::ItemBuilder::new(&key, "alert_marker")"#, false), ["uses the item builder"]);
    assert_eq!(findings(r#"Key::new(pk, sk)"#, true), Vec::<String>::new(), "a store adapter reads keys back");
    // Not keys: template variables, raw-string ends, lowercase receipt ids, other `…Key` types.
    for line in [
        r##""입금기한: #{dueAt}""##,
        r##"br#"{"status":"DONE"}"#"##,
        r#"format!("alarm#{}#{}", name, state)"#,
        r#"ApiKey { id, secret }"#,
        r#"BlobKey::new(text)"#,
        r#"// `RECON#{provider}#{day}` / `REPORT`"#,
    ] {
        assert_eq!(findings(line, false), Vec::<String>::new(), "{line}");
    }
}
