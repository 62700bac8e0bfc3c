//! The project file: a team keeps its rulebook layers in `rulecheck.yaml` (found in
//! the current directory or one of its parents), so `rulecheck eval` needs no flags.
//!
//! ```yaml
//! # rulecheck.yaml
//! rules: []                      # base rulebooks instead of the built-in one (optional)
//! overlays: [rules/team.yaml]    # layers on top, in order
//! vars: { base_url: http://127.0.0.1:3000/v1 }
//! ```
//!
//! Paths are relative to the project file. Flags add to it: `--overlay` after its
//! overlays, `--var` over its vars, `--rules` instead of its `rules`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{Code, Diagnostic};

/// The file name looked for.
pub const FILE_NAME: &str = "rulecheck.yaml";

/// A project's rulebook layers and settings.
#[derive(Clone, Debug, Default)]
pub struct Project {
    pub path: PathBuf,
    pub rules: Vec<PathBuf>,
    pub overlays: Vec<PathBuf>,
    pub vars: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    overlays: Vec<String>,
    #[serde(default)]
    vars: BTreeMap<String, String>,
}

/// Looks for `rulecheck.yaml` in `start` and its parents.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads a project file.
pub fn load(path: &Path) -> Result<Project, Diagnostic> {
    let file = path.display().to_string();
    let err = |pos: Option<crate::yaml::Pos>, msg: String| {
        Diagnostic::error(Code::BadProjectFile, &file, pos, msg)
            .with_help("a project file takes `rules`, `overlays` (paths relative to it) and `vars`")
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    let node = crate::yaml::parse(&text, Default::default()).map_err(|e| err(e.pos, e.message))?;
    let raw: Raw =
        serde_json::from_value(node.to_json()).map_err(|e| err(Some(node.pos), e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Project {
        path: path.to_path_buf(),
        rules: raw.rules.iter().map(|p| base.join(p)).collect(),
        overlays: raw.overlays.iter().map(|p| base.join(p)).collect(),
        vars: raw.vars,
    })
}

/// Which rulebooks a command uses: the flags' (`--rules`, `--overlay`, `--var`,
/// `--preview`) over the project file's over the built-in rulebook.
#[derive(Clone, Debug, Default)]
pub struct RuleChoice {
    /// Base rulebooks instead of the project's, or of the built-in one.
    pub rules: Vec<PathBuf>,
    /// Layers after the project's overlays.
    pub overlays: Vec<PathBuf>,
    /// Over the project's vars.
    pub vars: Vec<(String, String)>,
    pub preview: bool,
    /// Look for `rulecheck.yaml` from this directory up (`None`: no project file).
    pub project_from: Option<PathBuf>,
    /// Read the rules' examples (only the workbench and `explain` need them).
    pub with_examples: bool,
    pub limits: crate::limits::Limits,
}

/// Loads the rule set `choice` describes.
pub fn load_rule_set(
    choice: &RuleChoice,
) -> Result<crate::rulebook::RuleSet, crate::rulebook::LoadError> {
    use crate::rulebook::{LoadError, LoadOptions, RuleSet};
    let project = match choice.project_from.as_deref().and_then(find) {
        Some(path) => load(&path).map_err(|d| LoadError {
            diagnostics: vec![d],
            sources: BTreeMap::new(),
        })?,
        None => Project::default(),
    };
    let mut vars = project.vars.clone();
    vars.extend(choice.vars.iter().cloned());
    let options = LoadOptions {
        vars,
        limits: choice.limits,
        skip_examples: !choice.with_examples,
        ..Default::default()
    };
    let base = if choice.rules.is_empty() {
        &project.rules
    } else {
        &choice.rules
    };
    let overlays: Vec<PathBuf> = project
        .overlays
        .iter()
        .chain(&choice.overlays)
        .cloned()
        .collect();
    let mut set = RuleSet::load_layers(base, &overlays, &options)?;
    set.include_preview = choice.preview;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_in_a_parent_and_paths_resolved_against_it() {
        let dir = std::env::temp_dir().join(format!("rulecheck-project-{}", std::process::id()));
        let deep = dir.join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "overlays: [rules/team.yaml]\nvars: { base_url: http://x/v1 }\n",
        )
        .unwrap();
        let found = find(&deep).unwrap();
        assert_eq!(found, dir.join(FILE_NAME));
        let p = load(&found).unwrap();
        assert_eq!(p.overlays, [dir.join("rules/team.yaml")]);
        assert_eq!(p.vars["base_url"], "http://x/v1");
        std::fs::write(dir.join(FILE_NAME), "overlay: [x]\n").unwrap();
        let e = load(&found).unwrap_err();
        assert_eq!(e.code, Code::BadProjectFile);
        assert!(e.message.contains("overlay"), "{}", e.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
