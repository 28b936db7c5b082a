//! Themes: semantic colour slots (ok, warn, crit, muted, accent...) filled from TOML.
//! Built-in: dark (the 16 ANSI colours, so it works on any terminal), light,
//! high-contrast and mono. NO_COLOR selects mono; state is never shown by colour alone.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ThemeFile {
    pub name: String,
    pub colors: ThemeColors,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemeColors {
    pub text: String,
    pub ok: String,
    pub warn: String,
    pub crit: String,
    pub muted: String,
    pub accent: String,
    pub header: String,
    pub selection_fg: String,
    pub selection_bg: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub muted: Style,
    pub accent: Style,
    pub header: Style,
    pub selection: Style,
}

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.toml")),
    ("light", include_str!("../themes/light.toml")),
    ("high-contrast", include_str!("../themes/high-contrast.toml")),
    ("mono", include_str!("../themes/mono.toml")),
];

pub fn parse_color(s: &str) -> Result<Color, String> {
    let s = s.trim().to_ascii_lowercase();
    Ok(match s.as_str() {
        "reset" | "default" | "none" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "darkgray" | "darkgrey" => Color::DarkGray,
        "lightred" => Color::LightRed,
        "lightgreen" => Color::LightGreen,
        "lightyellow" => Color::LightYellow,
        "lightblue" => Color::LightBlue,
        "lightmagenta" => Color::LightMagenta,
        "lightcyan" => Color::LightCyan,
        "white" => Color::White,
        // ASCII first: `#aébbb` is seven bytes too, and slicing it by bytes would split the é
        hex if hex.starts_with('#') && hex.len() == 7 && hex.is_ascii() => {
            let p = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| format!("bad colour {s:?}"));
            Color::Rgb(p(1)?, p(3)?, p(5)?)
        }
        _ => return Err(format!("unknown colour {s:?} (use a name such as green or #rrggbb)")),
    })
}

impl Theme {
    pub fn from_toml(text: &str) -> Result<Theme, String> {
        let f: ThemeFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let c = &f.colors;
        let fg = |s: &str| parse_color(s).map(|col| Style::default().fg(col));
        let mono = f.name == "mono";
        let selection = if mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().fg(parse_color(&c.selection_fg)?).bg(parse_color(&c.selection_bg)?)
        };
        Ok(Theme {
            name: f.name.clone(),
            text: fg(&c.text)?,
            ok: fg(&c.ok)?,
            warn: fg(&c.warn)?.add_modifier(if mono { Modifier::BOLD } else { Modifier::empty() }),
            crit: fg(&c.crit)?.add_modifier(Modifier::BOLD),
            muted: fg(&c.muted)?.add_modifier(if mono { Modifier::DIM } else { Modifier::empty() }),
            accent: fg(&c.accent)?.add_modifier(Modifier::BOLD),
            header: fg(&c.header)?.add_modifier(Modifier::BOLD),
            selection,
        })
    }

    pub fn builtin(name: &str) -> Option<Theme> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| Theme::from_toml(t).expect("built-in themes parse"))
    }

    /// A built-in name, or `<config dir>/themes/<name>.toml`. NO_COLOR wins over both.
    pub fn load(name: &str, config_dir: Option<&Path>, no_color: bool) -> Result<Theme, String> {
        if no_color {
            return Ok(Theme::builtin("mono").expect("mono"));
        }
        if let Some(t) = Theme::builtin(name) {
            return Ok(t);
        }
        let path = config_dir.map(|d| d.join("themes").join(format!("{name}.toml")));
        match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                Theme::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))
            }
            _ => Err(format!(
                "unknown theme {name:?}: built-in themes are {}",
                BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_colours_are_refused_with_a_message_never_a_panic() {
        assert_eq!(parse_color("#AABBCC"), Ok(Color::Rgb(0xaa, 0xbb, 0xcc)));
        for odd in ["#aébbb", "#ééé", "#zzzzzz", "#12345", "#1234567", "é", "", "#"] {
            let e = parse_color(odd).expect_err(odd);
            assert!(e.contains("colour"), "{odd}: {e}");
        }
    }

    #[test]
    fn builtins_parse_and_mono_has_no_colour() {
        for (name, _) in BUILTIN {
            assert!(Theme::builtin(name).is_some(), "{name}");
        }
        let mono = Theme::builtin("mono").unwrap();
        for s in [mono.ok, mono.warn, mono.crit, mono.accent, mono.text] {
            assert!(matches!(s.fg, None | Some(Color::Reset)), "{s:?}");
        }
        let dark = Theme::builtin("dark").unwrap();
        assert!(matches!(dark.ok.fg, Some(Color::Green)), "16-colour safe");
    }

    #[test]
    fn no_color_forces_mono_and_user_theme_files_load() {
        assert_eq!(Theme::load("dark", None, true).unwrap().name, "mono");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let custom = include_str!("../themes/dark.toml")
            .replace("name = \"dark\"", "name = \"mine\"")
            .replace("\"green\"", "\"#00ff88\"");
        std::fs::write(dir.path().join("themes/mine.toml"), custom).unwrap();
        let t = Theme::load("mine", Some(dir.path()), false).unwrap();
        assert_eq!(t.ok.fg, Some(Color::Rgb(0, 0xff, 0x88)));
        assert!(Theme::load("nope", Some(dir.path()), false).unwrap_err().contains("built-in themes are"));
        assert!(parse_color("chartreuse").is_err());
    }
}
