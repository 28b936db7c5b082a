//! The house rules a maintainer relies on, checked over the source (issue #29):
//! - no import circles between the modules of kst or of kst-sim (a module's own children are part
//!   of it: `store/mod.rs` and `store/llmd.rs` may name each other), nor between kst's layers
//!   (`sources`, `store`, `ui`, `actions`, `config`...);
//! - no file over 1,000 lines outside tests;
//! - no function over 150 lines outside tests, save the ones listed below, which may only shrink.
//!
//! Test code (`#[cfg(test)]` modules, `tests.rs` files) is left out: a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

type Module = Vec<String>;

/// Every `.rs` file of a crate's `src/` as its module path (`store/mod.rs` -> `store`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut m: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            if m.last().is_some_and(|l| l == "mod") || m == ["lib"] || m == ["main"] {
                m.pop();
            }
            (m, p)
        })
        .collect()
}

/// The source without its test module (kst's files end with it) and without comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source");
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    let comment = regex::Regex::new(r"//[^\n]*").unwrap();
    comment.replace_all(text, "").into_owned()
}

/// The modules `m`'s code names (`use crate::a::b`, `super::x::y`, `crate::a::f()`), each
/// resolved to the deepest module that exists; edges to `m` itself, its ancestors and its
/// descendants are left out.
fn edges(m: &Module, code: &str, known: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    static USE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\buse\s+(crate|super|self)((?:::\w+)*)(?:::\{([^;]*)\})?\s*;").unwrap());
    static PATH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(crate|super)((?:::\w+)+)").unwrap());
    static GROUP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\w+(?:::\w+)*)::\{").unwrap());
    let base = |b: &str| -> Module {
        match b {
            "self" => m.clone(),
            "super" => m[..m.len().saturating_sub(1)].to_vec(),
            _ => Vec::new(),
        }
    };
    let segs = |s: &str| s.split("::").filter(|x| !x.is_empty() && *x != "self").map(String::from).collect::<Vec<_>>();
    let mut named: Vec<Module> = Vec::new();
    for c in USE.captures_iter(code) {
        let mut prefix = base(&c[1]);
        prefix.extend(segs(&c[2]));
        match c.get(3) {
            // `{a, b::{c, d}}`: each item, and each nested group's head
            Some(list) => {
                for item in list.as_str().split([',', '{', '}']) {
                    let item = item.split(" as ").next().unwrap_or("").trim();
                    if !item.is_empty() {
                        let mut p = prefix.clone();
                        p.extend(segs(item));
                        named.push(p);
                    }
                }
                for head in GROUP.captures_iter(list.as_str()) {
                    let mut p = prefix.clone();
                    p.extend(segs(&head[1]));
                    named.push(p);
                }
            }
            None => named.push(prefix),
        }
    }
    for c in PATH.captures_iter(code) {
        let mut p = base(&c[1]);
        p.extend(segs(&c[2]));
        named.push(p);
    }
    named
        .into_iter()
        .filter_map(|p| (0..=p.len()).rev().map(|i| p[..i].to_vec()).find(|q| known.contains_key(q)))
        .filter(|t| !t.starts_with(m) && !m.starts_with(t))
        .collect()
}

/// The strongly connected components with more than one node (Tarjan's algorithm).
fn circles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct T<'g, N> {
        graph: &'g BTreeMap<N, BTreeSet<N>>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on: BTreeSet<N>,
        out: Vec<Vec<N>>,
    }
    impl<N: Ord + Clone> T<'_, N> {
        fn visit(&mut self, v: &N) {
            let i = self.index.len();
            self.index.insert(v.clone(), i);
            self.low.insert(v.clone(), i);
            self.stack.push(v.clone());
            self.on.insert(v.clone());
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = &w == v;
                    comp.push(w);
                    if done {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn module_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    known.iter().map(|(m, p)| (m.clone(), edges(m, &code(p), &known))).collect()
}

fn shown(c: &[Module]) -> String {
    c.iter().map(|m| if m.is_empty() { "crate".to_string() } else { m.join("::") }).collect::<Vec<_>>().join(" <-> ")
}

#[test]
fn the_circle_finder_finds_circles() {
    let g: BTreeMap<u8, BTreeSet<u8>> =
        [(1, [2].into()), (2, [3].into()), (3, [1].into()), (4, [1].into()), (5, [5].into())].into_iter().collect();
    assert_eq!(circles(&g), vec![vec![1, 2, 3]]);
    // and the edge reader sees `use super::x::{A, b::C}` and `crate::y::f()` in a module's code
    let known: BTreeMap<Module, PathBuf> = [vec![], vec!["a".into()], vec!["x".into()], vec!["y".into()]]
        .into_iter()
        .map(|m| (m, PathBuf::new()))
        .collect();
    let seen = edges(&vec!["a".into()], "use super::x::{A, b::C};\nfn f() { crate::y::g(); }", &known);
    assert_eq!(seen, [vec!["x".to_string()], vec!["y".to_string()]].into_iter().collect());
}

#[test]
fn no_import_circles_between_modules_or_layers() {
    let mut found = Vec::new();
    for src in [root().join("src"), root().join("kst-sim/src")] {
        let g = module_graph(&src);
        assert!(g.len() > 30, "the modules of {} were read: {}", src.display(), g.len());
        found.extend(circles(&g).iter().map(|c| format!("{}: {}", src.display(), shown(c))));
    }
    // kst's layers: the first segment of each module
    let mut layers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, to) in module_graph(&root().join("src")) {
        let from = m.first().cloned().unwrap_or_else(|| "crate".into());
        for t in to {
            let t = t.first().cloned().unwrap_or_else(|| "crate".into());
            if t != from {
                layers.entry(from.clone()).or_default().insert(t);
            }
        }
    }
    found.extend(circles(&layers).iter().map(|c| format!("layers: {}", c.join(" <-> "))));
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn no_file_over_a_thousand_lines_outside_tests() {
    let mut long = Vec::new();
    for src in [root().join("src"), root().join("kst-sim/src")] {
        for p in modules(&src).values() {
            let n = std::fs::read_to_string(p).unwrap().lines().count();
            if n > 1000 {
                long.push(format!("{} ({n} lines)", p.display()));
            }
        }
    }
    assert!(long.is_empty(), "files over 1,000 lines: {long:?}");
}

/// Each `fn` of a file outside its tests, with its length in lines (signature to closing brace).
fn function_lengths(path: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().take_while(|l| !l.starts_with("#[cfg(test)]")).collect();
    let head =
        regex::Regex::new(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)").unwrap();
    let literal = regex::Regex::new(r#""(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])'"#).unwrap();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(c) = head.captures(l) else { continue };
        let (mut depth, mut opened) = (0i32, false);
        for (j, body) in lines.iter().enumerate().skip(i) {
            let body = literal.replace_all(body, "\"\"");
            let body = body.split("//").next().unwrap_or("");
            for ch in body.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                out.push((c[1].to_string(), j - i + 1));
                break;
            }
            if !opened && body.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
        }
    }
    out
}

#[test]
fn no_function_over_150_lines_outside_tests() {
    let mut over = Vec::new();
    let mut measured = 0;
    for src in [root().join("src"), root().join("kst-sim/src")] {
        for p in modules(&src).values() {
            let rel = p.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
            for (name, n) in function_lengths(p) {
                measured += 1;
                if n > 150 {
                    over.push(format!("{rel} {name}: {n} lines"));
                }
            }
        }
    }
    // the measure itself works: it finds the functions there are (some 2,500 when written)
    assert!(measured > 1500, "only {measured} functions found: the parser of `fn` lines is broken");
    assert!(over.is_empty(), "functions over 150 lines (split them):\n{}", over.join("\n"));
}
