//! The rulebook's header: format and engine requirements, and the rules a newer format leaves out.

use super::*;

/// Indices of the rules a newer engine is needed for, when the rulebook allows
/// skipping them (so the schema does not judge syntax this engine cannot know).
pub fn rules_to_skip(root: &Node) -> Vec<usize> {
    if root.get("unsupported_rules").and_then(Node::as_str) != Some("skip") {
        return Vec::new();
    }
    let engine = semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
    let Some(Value::Seq(rules)) = root.get("rules").map(|n| &n.value) else {
        return Vec::new();
    };
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.get("requires")
                .and_then(Node::as_str)
                .and_then(|t| semver::VersionReq::parse(t).ok())
                .is_some_and(|req| !req.matches(&engine))
        })
        .map(|(i, _)| i)
        .collect()
}

/// `Some(reason)` when a rule declares `requires` that this engine does not meet and
/// the rulebook allows skipping it; an error when it does not allow that.
pub(super) fn unsupported(cx: &mut Ctx<'_>, rule: &Node, skip_allowed: bool) -> Option<String> {
    let node = rule.get("requires")?;
    let Some(text) = node.as_str() else {
        cx.error(
            Code::BadSemver,
            node.pos,
            "a rule's `requires` must be a semver range such as \">=0.2\"",
            "quote it",
        );
        return None;
    };
    let req = match semver::VersionReq::parse(text) {
        Ok(r) => r,
        Err(e) => {
            cx.error(
                Code::BadSemver,
                node.pos,
                format!("`requires` is not a semver requirement: {e}"),
                "write a range such as \">=0.2\"",
            );
            return None;
        }
    };
    let engine = semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
    if req.matches(&engine) {
        return None;
    }
    let reason = format!("needs rulecheck {req}; this is rulecheck {ENGINE_VERSION}");
    if skip_allowed {
        Some(reason)
    } else {
        let id = rule.get("id").and_then(Node::as_str).unwrap_or("?");
        cx.error(
            Code::IncompatibleVersion,
            node.pos,
            format!("the rule `{id}` {reason}"),
            "upgrade rulecheck, or set `unsupported_rules: skip` so such rules are left out with a reason",
        );
        None
    }
}

/// `format` and `requires`: refuse the whole rulebook when this engine cannot run it.
pub(super) fn check_compatibility(cx: &mut Ctx<'_>, root: &Node) -> bool {
    let mut ok = true;
    if let Some(node) = root.get("format") {
        match node.as_str() {
            Some(FORMAT) => {}
            Some(other) => {
                ok = false;
                let newer = other
                    .strip_prefix("rulecheck/v")
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|v| *v > 1);
                match newer {
                    Some(v) => cx.error(
                        Code::IncompatibleVersion,
                        node.pos,
                        format!("this rulebook is in format rulecheck/v{v}; rulecheck {ENGINE_VERSION} reads {FORMAT}"),
                        "upgrade rulecheck to a version that reads this format, or use a rulebook written for rulecheck/v1",
                    ),
                    None => cx.error(
                        Code::NotAllowed,
                        node.pos,
                        format!("unknown rulebook format `{other}`"),
                        format!("write `format: {FORMAT}`"),
                    ),
                }
            }
            None => {
                ok = false;
                cx.error(
                    Code::WrongType,
                    node.pos,
                    "`format` must be a string",
                    format!("write `format: {FORMAT}`"),
                );
            }
        }
    }
    if let Some(node) = root.get("requires") {
        match node.as_str().map(semver::VersionReq::parse) {
            Some(Ok(req)) => {
                let engine =
                    semver::Version::parse(ENGINE_VERSION).unwrap_or(semver::Version::new(0, 0, 0));
                if !req.matches(&engine) {
                    ok = false;
                    cx.error(
                        Code::IncompatibleVersion,
                        node.pos,
                        format!("this rulebook requires rulecheck {req}; this is rulecheck {ENGINE_VERSION}"),
                        "upgrade rulecheck, or use a version of the rulebook made for this one",
                    );
                }
            }
            Some(Err(e)) => {
                ok = false;
                cx.error(
                    Code::BadSemver,
                    node.pos,
                    format!("`requires` is not a semver requirement: {e}"),
                    "write a range such as \">=0.1\" or \"^0.1\"",
                );
            }
            None => {
                ok = false;
                cx.error(
                    Code::BadSemver,
                    node.pos,
                    "`requires` must be a string such as \">=0.1\"",
                    "quote the requirement",
                );
            }
        }
    }
    ok
}
