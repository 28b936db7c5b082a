//! How the rule table's levels are drawn: a colour from the theme and, so a state is readable
//! without colour, a mark (`!` warning, `!!` critical) next to the value.

use ratatui::style::Style;

use crate::store::llmd::Role;
use crate::store::rules::levels::{self, Threshold};
use crate::store::rules::Level;
use crate::theme::Theme;

pub fn style(t: &Theme, l: Level) -> Style {
    match l {
        Level::Ok => t.text,
        Level::Warn => t.warn,
        Level::Crit => t.crit,
    }
}

pub fn mark(l: Level) -> &'static str {
    match l {
        Level::Ok => "",
        Level::Warn => "!",
        Level::Crit => "!!",
    }
}

pub fn level(rule: &Threshold, v: Option<f64>) -> Level {
    v.map(|v| rule.level(v)).unwrap_or(Level::Ok)
}

/// A value drawn with its rule: the text with the mark, and the style.
pub fn judged(t: &Theme, rule: &Threshold, v: Option<f64>, text: String) -> (String, Style) {
    let l = level(rule, v);
    (format!("{text}{}", mark(l)), style(t, l))
}

pub fn kv_style(t: &Theme, role: &Role, kv: Option<f64>) -> Style {
    match kv {
        Some(v) => match levels::kv(role.serves_decode()).level(v) {
            Level::Ok => t.ok,
            l => style(t, l),
        },
        None => t.muted,
    }
}
