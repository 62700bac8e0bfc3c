//! docs/rule-authoring.md, followed as a new user would: every file it shows is
//! written, every `rulecheck` command it shows is run, in order, in an empty
//! directory, and must exit as the guide says (`# exit N`, default 0) and print what
//! it says (`# shows: …`).

// Test code: an unwrap, an index or a panic is how a test fails loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[test]
fn the_rule_authoring_guide_works_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(root.join("docs/rule-authoring.md")).unwrap();
    let dir: PathBuf = std::env::temp_dir().join(format!("rulecheck-guide-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    let mut block: Option<(String, String)> = None; // (info string, text)
    let mut files = 0;
    let mut commands = 0;
    for line in guide.lines() {
        if let Some((info, text)) = &mut block {
            if line.trim() == "```" {
                if let Some(file) = info
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("file="))
                {
                    let path = dir.join(file);
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    std::fs::write(path, &text).unwrap();
                    files += 1;
                } else if info == "sh" {
                    for cmd in text.lines().filter(|l| l.starts_with("rulecheck ")) {
                        run(&dir, cmd);
                        commands += 1;
                    }
                }
                block = None;
            } else {
                text.push_str(line);
                text.push('\n');
            }
        } else if let Some(info) = line.trim().strip_prefix("```") {
            block = Some((info.to_owned(), String::new()));
        }
    }
    assert!(
        files >= 4 && commands >= 10,
        "{files} files, {commands} commands"
    );
    // Every `$schema` a rulebook names is there for the editor, made by the guide's
    // own commands (no checkout needed), and is the schema the binary checks against.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(at) = text.lines().find_map(|l| l.split_once("$schema=")) {
            let schema = std::fs::read_to_string(dir.join(at.1.trim()))
                .unwrap_or_else(|e| panic!("{}: $schema={}: {e}", path.display(), at.1));
            let built_in =
                std::fs::read_to_string(root.join("schemas/rulebook.schema.json")).unwrap();
            assert_eq!(schema, built_in, "{}", path.display());
        }
    }
}

fn run(dir: &Path, line: &str) {
    let (command, notes) = line
        .split_once('#')
        .map(|(c, n)| (c, format!("#{n}")))
        .unwrap_or((line, String::new()));
    let expected_exit: i32 = notes
        .split('#')
        .find_map(|n| {
            n.trim()
                .strip_prefix("exit ")
                .map(|c| c.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let shows: Vec<&str> = notes
        .split('#')
        .filter_map(|n| n.trim().strip_prefix("shows: "))
        .collect();
    // `rulecheck … > FILE`: the output is saved in FILE, as a shell would.
    let (command, saved_in) = match command.split_once(" > ") {
        Some((c, file)) => (c, Some(file.trim())),
        None => (command, None),
    };
    let args = words(command);
    let out = Command::new(env!("CARGO_BIN_EXE_rulecheck"))
        .args(&args[1..])
        .current_dir(dir)
        .env("LANG", "C")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(expected_exit),
        "`{command}` exited {:?}:\n{all}",
        out.status.code()
    );
    if let Some(file) = saved_in {
        std::fs::write(dir.join(file), &out.stdout).unwrap();
    }
    for s in shows {
        assert!(
            all.contains(s.trim()),
            "`{command}` does not show `{s}`:\n{all}"
        );
    }
}
