//! How a cluster's connection state is drawn: a symbol and a word (readable without colour)
//! plus the theme's colour.

use ratatui::style::Style;

use crate::store::Conn;
use crate::theme::Theme;

pub fn symbol(c: &Conn) -> &'static str {
    match c {
        Conn::Live => "●",
        Conn::Degraded(_) | Conn::Slow(_) => "▲",
        Conn::Connecting => "○",
        _ => "✖",
    }
}

pub fn style(c: &Conn, t: &Theme) -> Style {
    match c {
        Conn::Live => t.ok,
        Conn::Degraded(_) | Conn::Slow(_) => t.warn,
        Conn::Connecting => t.muted,
        _ => t.crit,
    }
}

pub const DASH: &str = "—";
