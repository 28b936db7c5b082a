//! `?`: the keys of the view in front (from its component's hints) and the keys that work
//! everywhere (from the keymap in force, so rebinding shows), then what the view's symbols mean.
//! Descriptions wrap under their text column, never cut; what does not fit scrolls (j/k, PgUp/
//! PgDn, g/G), and two columns are used when the screen is wide enough to show it all at once.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::component::Hint;
use super::keymap::Keymap;
use super::widgets::fmt::wrap;
use crate::theme::Theme;

/// The width of the key column; a longer key goes on a line of its own.
const KEYS: usize = 22;

/// What the help shows, before it is laid out to a width.
pub struct Help<'a> {
    pub title: &'a str,
    pub hints: &'a [Hint],
    pub legend: &'a [(&'static str, &'static str)],
    /// `/` in the help: only the rows whose keys or words hold this (any case).
    pub find: &'a str,
}

/// The keys a label names (`g G`, `Ctrl-d Ctrl-u`, `g Home / G End`).
fn key_tokens(label: &str) -> Vec<&str> {
    let tokens: Vec<&str> = label.split([' ', ',']).filter(|t| !t.is_empty()).collect();
    // `/` between keys separates them; alone it is the key
    if tokens.len() > 1 {
        tokens.into_iter().filter(|t| *t != "/").collect()
    } else {
        tokens
    }
}

/// The help's lines at `width` columns: a heading and rows for the view, then for everywhere,
/// then the legend.
pub fn lines(theme: &Theme, keymap: &Keymap, help: &Help, width: usize) -> Vec<Line<'static>> {
    let text_width = width.saturating_sub(KEYS).max(12);
    let row = |keys: String, what: &str, key_style, text_style| -> Vec<Line<'static>> {
        let mut out = Vec::new();
        let mut text = wrap(what, text_width).into_iter();
        // a key as wide as its column would run into the text: it takes a line of its own
        let first = if keys.chars().count() >= KEYS {
            out.push(Line::from(Span::styled(keys, key_style)));
            text.next().map(|t| Line::from(vec![Span::raw(" ".repeat(KEYS)), Span::styled(t, text_style)]))
        } else {
            Some(Line::from(vec![
                Span::styled(format!("{keys:<KEYS$}"), key_style),
                Span::styled(text.next().unwrap_or_default(), text_style),
            ]))
        };
        out.extend(first);
        out.extend(text.map(|t| Line::from(vec![Span::raw(" ".repeat(KEYS)), Span::styled(t, text_style)])));
        out
    };
    let find = help.find.to_lowercase();
    let kept = |keys: &str, what: &str| {
        find.is_empty() || keys.to_lowercase().contains(&find) || what.to_lowercase().contains(&find)
    };
    let mut out = Vec::new();
    let view: Vec<(String, &str)> =
        help.hints.iter().map(|h| (h.label(keymap), h.what)).filter(|(k, w)| kept(k, w)).collect();
    if !view.is_empty() {
        out.push(Line::from(Span::styled(format!("{}:", help.title), theme.header)));
        for (k, w) in &view {
            out.extend(row(k.clone(), w, theme.accent, theme.text));
        }
    }
    // a key this view answers itself means what the view says, not the global meaning: said,
    // and dimmed, so the two lists never contradict each other
    let taken: Vec<String> = help
        .hints
        .iter()
        .flat_map(|h| key_tokens(&h.label(keymap)).into_iter().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let global: Vec<(String, String, bool)> = keymap
        .global_help_rows()
        .into_iter()
        .filter(|(k, w)| kept(k, w))
        .map(|(k, w)| {
            let here: Vec<&str> = key_tokens(&k).into_iter().filter(|t| taken.iter().any(|x| x == t)).collect();
            match here.is_empty() {
                true => (k, w.to_string(), false),
                false => (k.clone(), format!("{w} (here {}: see above)", here.join(" ")), true),
            }
        })
        .collect();
    if !global.is_empty() {
        out.push(Line::from(Span::styled("everywhere:", theme.header)));
    }
    for (k, w, overridden) in global {
        let (ks, ts) = if overridden { (theme.muted, theme.muted) } else { (theme.accent, theme.text) };
        out.extend(row(k, &w, ks, ts));
    }
    let legend: Vec<_> = help.legend.iter().filter(|(sym, what)| kept(sym, what)).collect();
    if !legend.is_empty() {
        out.push(Line::from(Span::styled("what the symbols mean:", theme.header)));
        for (sym, what) in legend {
            out.extend(row(sym.to_string(), what, theme.text, theme.muted));
        }
    }
    if out.is_empty() {
        out.push(Line::from(Span::styled(format!("no key or symbol holds {:?}", help.find), theme.muted)));
    }
    out
}

/// Where a key moves the help's first line (`scroll`), given a page's lines and the most it
/// can scroll (from its last drawing); None: the key closes it.
pub fn scrolled(k: &KeyEvent, scroll: usize, (page, max): (usize, usize)) -> Option<usize> {
    let to = match (k.code, k.modifiers.contains(KeyModifiers::CONTROL)) {
        (KeyCode::Char('j') | KeyCode::Down, false) => scroll + 1,
        (KeyCode::Char('k') | KeyCode::Up, false) => scroll.saturating_sub(1),
        (KeyCode::PageDown | KeyCode::Char(' '), false) | (KeyCode::Char('d' | 'f'), true) => scroll + page,
        (KeyCode::PageUp, false) | (KeyCode::Char('u' | 'b'), true) => scroll.saturating_sub(page),
        (KeyCode::Char('g') | KeyCode::Home, false) => 0,
        (KeyCode::Char('G') | KeyCode::End, _) => max,
        _ => return None,
    };
    Some(to.min(max))
}

/// Draws the help over `area`, its first line `scroll` (clamped); returns how many lines a
/// page holds (what PgDn moves) and the largest useful scroll.
pub fn draw(
    f: &mut Frame,
    area: Rect,
    theme: &Theme,
    keymap: &Keymap,
    help: &Help,
    scroll: usize,
    typing: bool,
) -> (usize, usize) {
    let room = area.height.saturating_sub(2) as usize;
    // two columns of 74 when that shows everything at once; else one, scrolled
    let two_width = 150.min(area.width);
    let two_lines = lines(theme, keymap, help, (two_width as usize / 2).saturating_sub(2));
    let two = area.width >= 150 && two_lines.len() > room && two_lines.len().div_ceil(2) <= room;
    let width = if two { two_width } else { 100.min(area.width) };
    let all = if two { two_lines } else { lines(theme, keymap, help, width.saturating_sub(2) as usize) };
    let rows = if two { all.len().div_ceil(2) } else { all.len() };
    let height = (rows as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    let max_scroll = rows.saturating_sub(room);
    let scroll = scroll.min(max_scroll);
    let title = if !help.find.is_empty() || typing {
        format!(
            " keys holding /{}{} — Esc clears · any other key closes ",
            help.find,
            if typing { "▏ Enter keeps" } else { "" }
        )
    } else if max_scroll == 0 {
        " keys — / finds · any key closes ".to_string()
    } else {
        format!(
            " keys {}-{} of {} — j/k PgUp/PgDn g/G scroll · / finds · any other key closes ",
            scroll + 1,
            (scroll + room).min(rows),
            rows
        )
    };
    f.render_widget(Clear, r);
    let block = Block::default().borders(Borders::ALL).title(title).border_style(theme.muted);
    let inner = block.inner(r);
    f.render_widget(block, r);
    if two {
        let half = inner.width / 2;
        let (a, b) = all.split_at(rows);
        f.render_widget(Paragraph::new(a.to_vec()), Rect { width: half, ..inner });
        f.render_widget(Paragraph::new(b.to_vec()), Rect { x: inner.x + half, width: inner.width - half, ..inner });
    } else {
        f.render_widget(Paragraph::new(all[scroll..].to_vec()), inner);
    }
    (room.max(1), max_scroll)
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_at_the_width_and_long_words_are_cut() {
        assert_eq!(wrap("clear focus and filter", 12), ["clear focus", "and filter"]);
        assert_eq!(wrap("abcdefghijklmnop x", 8), ["abcdefgh", "ijklmnop", "x"]);
        assert_eq!(wrap("", 10), [""]);
    }
}
