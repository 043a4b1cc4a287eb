//! The house's layout (ARCHITECTURE.md), read from the sources: every `crate::` and
//! `super::` path a file names (in `use` lines and in code) is an arrow from that file to
//! the module file it reaches. Arrows between the top-level modules must run down the
//! floors below, and no files may form a circle, but for the few listed in
//! `KNOWN_CIRCLES` (to be taken apart; a new one fails).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, top first: a module may use the modules on lower floors, never one on its
/// own floor (but itself) or above.
const FLOORS: &[&[&str]] = &[
    &["cmd"],
    &["cli"],
    &["serve"],
    &["pipeline", "export"],
    &["sink", "validate", "write"],
    &["report", "store"],
    &["domain"],
    &["record"],
    &["read"],
    &["progress", "outfile", "escape"],
    &["error"],
    &["columns"],
];

/// Circles of files there are today, each to be taken apart; no other may appear. (None
/// now. A parent's uses of its own sub-modules by their bare names are not read as arrows:
/// the floors between modules are what this guards.)
const KNOWN_CIRCLES: &[&[&str]] = &[];

/// The module path of a source file: `src/store/postgres/mod.rs` is `store::postgres`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
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
    parts
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments and its unit tests.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a `use` line or the code names from `crate` or `super`, as segments after
/// the head, with the head (`crate` or `super`).
fn paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    // `use` lines (a line starting with `use`, `pub use` or `pub(...) use`), braces
    // expanded.
    for line in code
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain([0])
        .filter_map(|i| Some(code.get(i..)?.trim_start()))
    {
        let Some(tail) = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        else {
            continue;
        };
        let Some(end) = tail.find(';') else { continue };
        let body = tail[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(":: ", "::")
            .replace("{ ", "{")
            .replace(" }", "}")
            .replace(", ", ",");
        for p in expand(&body) {
            let mut segs = p.into_iter();
            if let Some(head) = segs.next().filter(|h| h == "crate" || h == "super") {
                out.push((head, segs.collect()));
            }
        }
    }
    // Paths in the code.
    let bytes = code.as_bytes();
    for head in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                continue;
            }
            let tail: String = code[from..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segs = tail
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            out.push((head.trim_end_matches(':').to_string(), segs));
        }
    }
    out
}

/// `a::{b, c::{d, e}}` as `[a, b]`, `[a, c, d]`, `[a, c, e]`.
fn expand(body: &str) -> Vec<Vec<String>> {
    let Some(open) = body.find('{') else {
        return vec![body
            .split("::")
            .filter(|s| !s.is_empty())
            .map(|s| s.split(" as ").next().unwrap_or(s).to_string())
            .collect()];
    };
    let prefix = &body[..open];
    let close = body.rfind('}').filter(|&c| c > open).unwrap_or(body.len());
    let inner = &body[open + 1..close];
    let (mut parts, mut depth, mut part) = (Vec::new(), 0, String::new());
    for c in inner.chars() {
        match c {
            ',' if depth == 0 => parts.push(std::mem::take(&mut part)),
            '{' => {
                depth += 1;
                part.push(c);
            }
            '}' => {
                depth -= 1;
                part.push(c);
            }
            _ => part.push(c),
        }
    }
    parts.push(part);
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{prefix}{p}")))
        .collect()
}

/// The arrows between the files of `src/`, by path relative to it.
fn arrows() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rel = |p: &Path| p.strip_prefix(&src).unwrap().to_path_buf();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|p| (module_of(&rel(p)), rel(p).to_string_lossy().into_owned()))
        .collect();
    let mut arrows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let name = rel(file).to_string_lossy().into_owned();
        let here = module_of(&rel(file));
        let text = std::fs::read_to_string(file).unwrap();
        for (head, mut segs) in paths(&code(&text)) {
            let mut target = if head == "crate" {
                Vec::new()
            } else {
                let mut parent = here.clone();
                parent.pop();
                while segs.first().is_some_and(|s| s == "super") {
                    segs.remove(0);
                    parent.pop();
                }
                parent
            };
            target.extend(segs);
            let found = (1..=target.len())
                .rev()
                .find_map(|n| modules.get(&target[..n]));
            if let Some(to) = found.filter(|to| **to != name) {
                arrows.entry(name.clone()).or_default().insert(to.clone());
            }
        }
    }
    arrows
}

fn floor(file: &str) -> Option<(usize, &str)> {
    let top = file.split('/').next()?.trim_end_matches(".rs");
    FLOORS
        .iter()
        .position(|f| f.contains(&top))
        .map(|i| (i, top))
}

#[test]
fn every_arrow_between_modules_runs_down_the_floors() {
    let mut wrong = Vec::new();
    for (from, tos) in arrows() {
        if from == "lib.rs" || from == "main.rs" {
            continue;
        }
        let Some((f, fm)) = floor(&from) else {
            wrong.push(format!("{from}: its module has no floor in FLOORS"));
            continue;
        };
        for to in tos {
            let Some((t, tm)) = floor(&to) else {
                wrong.push(format!("{to}: its module has no floor in FLOORS"));
                continue;
            };
            if fm != tm && t <= f {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows up the floors:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_form_a_circle_but_the_known_ones() {
    let arrows = arrows();
    // Tarjan's strongly connected components.
    struct State<'a> {
        arrows: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        circles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in s.arrows.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut circle = Vec::new();
            while let Some(w) = s.stack.pop() {
                circle.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if circle.len() > 1 {
                circle.sort();
                s.circles.push(circle);
            }
        }
    }
    let mut state = State {
        arrows: &arrows,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        circles: Vec::new(),
    };
    for v in arrows.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    let new: Vec<&Vec<String>> = state
        .circles
        .iter()
        .filter(|c| !KNOWN_CIRCLES.iter().any(|k| *k == c.as_slice()))
        .collect();
    assert!(new.is_empty(), "circles of files: {new:?}");
    // A circle taken apart leaves the list, so that it cannot come back unseen.
    for known in KNOWN_CIRCLES {
        assert!(
            state.circles.iter().any(|c| c.as_slice() == *known),
            "{known:?} is no longer a circle: take it out of KNOWN_CIRCLES"
        );
    }
}

#[test]
fn the_reader_of_arrows_sees_the_forms_the_sources_use() {
    let code = "use crate::a::{b, c::{d, e as f}};\nuse super::g;\nfn x() { crate::h::i(); }";
    let found = paths(code);
    for want in [
        ("crate", vec!["a", "b"]),
        ("crate", vec!["a", "c", "d"]),
        ("crate", vec!["a", "c", "e"]),
        ("super", vec!["g"]),
        ("crate", vec!["h", "i"]),
    ] {
        let want = (
            want.0.to_string(),
            want.1.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        assert!(found.contains(&want), "{want:?} not in {found:?}");
    }
    // The domain reaches the port, and the store reaches the domain, never the reverse.
    let arrows = arrows();
    assert!(arrows["store/sqlite_tx.rs"].contains("domain/port/mod.rs"));
    assert!(!arrows["domain/mod.rs"]
        .iter()
        .any(|t| t.starts_with("store/")));
}
