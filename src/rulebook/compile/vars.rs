//! `vars:`: rulebook variables, and `{vars.name}` substituted into patterns and texts.

use super::*;

/// A variable holding a URL also gives its parts: `base_url.host`, `.scheme`,
/// `.origin`, `.path` (unless the rulebook declares those names itself).
pub(super) fn add_url_parts(vars: &mut BTreeMap<String, String>) {
    let mut derived = Vec::new();
    for (name, value) in vars.iter() {
        let Ok(url) = url::Url::parse(value) else {
            continue;
        };
        let Some(host) = url.host_str() else {
            continue;
        };
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/').to_owned();
        for (part, v) in [
            ("host", host.to_owned()),
            ("scheme", url.scheme().to_owned()),
            ("origin", origin),
            ("path", path),
        ] {
            derived.push((format!("{name}.{part}"), v));
        }
    }
    for (k, v) in derived {
        vars.entry(k).or_insert(v);
    }
}

pub(super) fn substitute_vars(
    cx: &mut Ctx<'_>,
    text: &str,
    pos: Pos,
    escape_regex: bool,
) -> Option<String> {
    if !text.contains("{vars.") {
        return Some(text.to_owned());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some((before, from)) = rest.find("{vars.").and_then(|i| rest.split_at_checked(i)) {
        out.push_str(before);
        let after = from.strip_prefix("{vars.").unwrap_or(from);
        let Some((name, _)) = after.split_once('}') else {
            out.push_str(from);
            rest = "";
            break;
        };
        match cx.source_vars.get(name) {
            Some(v) => out.push_str(&if escape_regex {
                regex::escape(v)
            } else {
                v.clone()
            }),
            None => {
                cx.error(
                    Code::BadTemplate,
                    pos,
                    format!("`{{vars.{name}}}`: the rulebook declares no variable `{name}`"),
                    "declare it under `vars:`",
                );
                return None;
            }
        }
        rest = after.get(name.len() + 1..).unwrap_or("");
    }
    out.push_str(rest);
    Some(out)
}
