//! No config value makes kst panic (issue #29): every string of `config.example.toml`, its
//! commented keys included, is replaced in turn by odd text (empty, multi-byte, control
//! characters, right-to-left marks, very long, durations out of range...), and the settings,
//! the theme and the key map are built from it as `kst` builds them at start. Each is an error
//! with a message or a working setting; none panics.

use kst::cli::CommonArgs;
use kst::config::Settings;

/// The example with its commented keys and sections uncommented: every key kst reads.
fn full_example() -> String {
    // `# key = value` and `# [section]` (a trailing comment allowed after a section)
    let key = regex::Regex::new(r#"^#\s?(\[\[?[a-z0-9_."\-]+\]\]?(?:\s+#.*)?|[a-z0-9_"\-.]+\s*=.*)$"#).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    text.lines().map(|l| key.captures(l).map_or(l.to_string(), |c| c[1].to_string())).collect::<Vec<_>>().join("\n")
}

/// The path of every string in a TOML value (`a.b[2].c`), as indices into it.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn strings(v: &toml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        toml::Value::String(_) => out.push(at.clone()),
        toml::Value::Table(t) => {
            for (k, v) in t {
                at.push(Step::Key(k.clone()));
                strings(v, at, out);
                at.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                at.push(Step::Index(i));
                strings(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'v>(v: &'v mut toml::Value, path: &[Step]) -> &'v mut toml::Value {
    path.iter().fold(v, |v, s| match s {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

const ODD: &[&str] = &[
    "",
    " ",
    "é",
    "#aébbb",
    "#ééé",
    "\u{202e}gnp.exe",
    "😀😀😀",
    "a\u{0}b",
    "\u{ffff}\u{fffd}",
    "ｗｉｄｅ",
    "../../../../etc/passwd",
    "{context}{context}/{context}",
    "0s",
    "-1s",
    "1e309s",
    "NaN",
    "18446744073709551616ms",
    "%s%n%x",
    "a=b,c in (d,e),!f",
    "http://[::1",
    "ctrl+alt+shift+super+F99",
];

#[test]
fn no_config_value_makes_kst_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let mut base: toml::Value = toml::from_str(&full_example()).expect("the uncommented example is TOML");
    let mut paths = Vec::new();
    strings(&base, &mut Vec::new(), &mut paths);
    // the files the example names exist here, so each odd value is judged past them
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    for path in &paths {
        let Some(Step::Key(key)) = path.last() else { continue };
        let at = dir.path().join(key);
        let content = match key.as_str() {
            "ca_file" | "cert_file" => cert.cert.pem(),
            "key_file" => cert.signing_key.serialize_pem(),
            k if k.ends_with("_file") => "a-token\n".into(),
            "reports_dir" => {
                std::fs::create_dir_all(&at).unwrap();
                *at_mut(&mut base, path) = toml::Value::String(at.display().to_string());
                continue;
            }
            _ => continue,
        };
        std::fs::write(&at, content).unwrap();
        *at_mut(&mut base, path) = toml::Value::String(at.display().to_string());
    }
    std::fs::write(&file, toml::to_string(&base).unwrap()).unwrap();
    let whole = Settings::resolve(&CommonArgs { config: Some(file.clone()), ..Default::default() });
    assert!(whole.is_ok(), "the whole example resolves: {:?}", whole.err());
    assert!(paths.len() > 60, "the example's strings were found: {}", paths.len());
    let mut tried = 0;
    let mut long = "x".repeat(10_000);
    long.push('é');
    for path in &paths {
        for odd in ODD.iter().copied().chain([long.as_str()]) {
            let mut v = base.clone();
            *at_mut(&mut v, path) = toml::Value::String(odd.to_string());
            std::fs::write(&file, toml::to_string(&v).unwrap()).unwrap();
            let args = CommonArgs { config: Some(file.clone()), ..Default::default() };
            // an error is fine (it names the key); a panic fails the test
            if let Ok(s) = Settings::resolve(&args) {
                let _ = kst::theme::Theme::load(&s.theme, Some(dir.path()), false);
                let _ = kst::ui::keymap::Keymap::with_overrides(&s.keys);
            }
            tried += 1;
        }
    }
    assert_eq!(tried, paths.len() * (ODD.len() + 1));
}

/// A theme file's colours too (a user's own theme in the config folder).
#[test]
fn no_theme_value_makes_kst_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("themes")).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/dark.toml")).unwrap();
    let base: toml::Value = toml::from_str(&text).unwrap();
    let mut paths = Vec::new();
    strings(&base, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 8, "the theme's strings were found: {}", paths.len());
    for path in &paths {
        for odd in ODD {
            let mut v = base.clone();
            *at_mut(&mut v, path) = toml::Value::String(odd.to_string());
            std::fs::write(dir.path().join("themes/odd.toml"), toml::to_string(&v).unwrap()).unwrap();
            // an error naming the file, or a theme; never a panic
            let _ = kst::theme::Theme::load("odd", Some(dir.path()), false);
        }
    }
}
