//! The wall screen (`--kiosk`): the fleet's headline figures in big digits, the problems
//! below them, then the rotating pane; no key hints, no selection highlight, and a rotation
//! indicator (`Serving · 2/6 · next in 14s`). `q` asks before quitting, or is refused with
//! `--kiosk-lock`. Meant to be read from across a room at 200x60.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use tui_big_text::{BigText, PixelSize};

use super::App;
use crate::store::problems::Severity;
use crate::ui::widgets::fmt;
use crate::ui::widgets::state::DASH;

/// The wall screen's own state: the rotation's clock and the quit confirmation.
#[derive(Debug, Clone)]
pub struct Wall {
    /// `--kiosk-lock`: `q` never quits (stop kst with a signal).
    pub lock: bool,
    pub every: Duration,
    /// When the next pane comes (unix seconds, on the App's clock).
    pub next_at: f64,
    /// `q` was pressed once: the next `q` or `y` quits, any other key stays.
    pub confirming: bool,
}

impl Wall {
    pub fn new(every: Duration, lock: bool, now: f64) -> Wall {
        Wall { lock, every, next_at: now + every.as_secs_f64(), confirming: false }
    }

    /// A key on the wall screen: Some(true) quits, Some(false) is taken here, None goes on.
    /// `yes_key` is `y` (or `q` again) while the quit question is shown.
    pub fn on_key(&mut self, quit_key: bool, yes_key: bool, flash: &mut Option<String>) -> Option<bool> {
        if self.confirming {
            self.confirming = false;
            *flash = None;
            return Some(quit_key || yes_key);
        }
        if !quit_key {
            return None;
        }
        if self.lock {
            *flash = Some("kiosk locked (--kiosk-lock): stop kst with a signal (Ctrl-C or kill)".into());
        } else {
            self.confirming = true;
            *flash = Some("Quit the wall screen? q or y quits, any other key stays".into());
        }
        Some(false)
    }
}

impl App {
    /// Kiosk rotation: the next pane that has something to show.
    pub fn rotate(&mut self) {
        let n = self.panes.len();
        if let Some(step) = (1..=n).find(|s| self.panes[(self.tab + s) % n].has_data(&self.fleet)) {
            self.set_tab(self.tab + step);
        }
        let now = self.now();
        if let Some(w) = self.wall.as_mut() {
            w.next_at = now + w.every.as_secs_f64();
        }
    }

    /// A key on the wall screen, which asks before `q` quits (or refuses, locked); true when
    /// the wall took it.
    pub(super) fn wall_key(&mut self, quit_key: bool, yes_key: bool) -> bool {
        let Some(wall) = self.wall.as_mut() else { return false };
        match wall.on_key(quit_key, yes_key, &mut self.flash) {
            Some(quit) => {
                self.quit = quit;
                true
            }
            None => false,
        }
    }
}

/// One big figure: its label, its value (`—` when unknown) and its style.
struct Tile {
    label: &'static str,
    value: String,
    style: Style,
}

fn tiles(app: &App) -> Vec<Tile> {
    let t = &app.theme;
    let h = app.fleet.headline(app.now());
    let count_style = |n: usize, s: Style| if n > 0 { s } else { t.ok };
    vec![
        Tile {
            label: "CLUSTERS LIVE",
            value: format!("{}/{}", h.live, h.clusters),
            style: if h.live == h.clusters { t.ok } else { t.crit },
        },
        Tile { label: "CRITICAL", value: h.critical.to_string(), style: count_style(h.critical, t.crit) },
        Tile { label: "WARNING", value: h.warning.to_string(), style: count_style(h.warning, t.warn) },
        Tile { label: "TOKENS/S", value: h.tokens_per_s.map(fmt::num).unwrap_or_else(|| DASH.into()), style: t.text },
        Tile {
            label: "KV MAX DECODE",
            value: h.kv_max.map(fmt::pct).unwrap_or_else(|| DASH.into()),
            style: crate::ui::rules::kv_style(t, &crate::store::llmd::Role::Decode, h.kv_max),
        },
        Tile {
            label: "AGENTS HEALTHY",
            value: h.agents.map(|(ok, all)| format!("{ok}/{all}")).unwrap_or_else(|| DASH.into()),
            style: match h.agents {
                Some((ok, all)) if ok < all => t.warn,
                Some(_) => t.ok,
                None => t.muted,
            },
        },
    ]
}

/// The rows of the worst incident's glyphs above the problem lines (the 8x8 font in quadrants).
const HEADLINE_ROWS: u16 = 4;
/// Below this width the glyphs hold fewer than 40 characters: too few to say what is wrong.
const HEADLINE_MIN_WIDTH: u16 = 158;

/// The rows the tiles take: a border, the label, the digits.
fn tiles_height(area: Rect) -> u16 {
    if area.height >= 40 {
        7
    } else {
        3
    }
}

fn draw_tiles(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let tiles = tiles(app);
    let cells = Layout::horizontal(vec![Constraint::Ratio(1, tiles.len() as u32); tiles.len()]).split(area);
    // one glyph size for every figure: the biggest that fits the widest (a tile drawn smaller
    // than its neighbours reads as less important from across the room)
    let inner_of = |cell: &Rect| Block::default().borders(Borders::ALL).inner(*cell);
    let fits = |per_char: u16| {
        tiles.iter().zip(cells.iter()).filter(|(tile, _)| tile.value.is_ascii()).all(|(tile, cell)| {
            let inner = inner_of(cell);
            inner.height >= 4 && inner.width >= per_char * tile.value.chars().count() as u16
        })
    };
    let size = if fits(8) {
        Some(PixelSize::HalfHeight)
    } else if fits(4) {
        Some(PixelSize::Quadrant)
    } else {
        None
    };
    for (tile, cell) in tiles.iter().zip(cells.iter()) {
        let block = Block::default().borders(Borders::ALL).border_style(t.muted).title(format!(" {} ", tile.label));
        let inner = block.inner(*cell);
        f.render_widget(block, *cell);
        let chars = tile.value.chars().count() as u16;
        // font8x8 draws ASCII; `—` (unknown) is drawn as text so it reads as unknown
        match size.filter(|_| tile.value.is_ascii()) {
            Some(size) => {
                let w = (chars * if size == PixelSize::HalfHeight { 8 } else { 4 }).min(inner.width);
                let r = Rect { x: inner.x + (inner.width - w) / 2, width: w, height: 4, ..inner };
                let big = BigText::builder()
                    .pixel_size(size)
                    .style(tile.style)
                    .lines(vec![Line::from(tile.value.clone())])
                    .build();
                f.render_widget(big, r);
            }
            None => f.render_widget(
                Paragraph::new(Span::styled(tile.value.clone(), tile.style)).centered(),
                Rect { y: inner.y + inner.height.saturating_sub(1) / 2, height: 1, ..inner },
            ),
        }
    }
}

/// The worst incident in words a wall screen can draw big (the 8x8 font is ASCII): its
/// severity, cluster and reason, cut at `max` characters with `...`.
fn headline(app: &App, max: usize) -> Option<(String, Style)> {
    let p = app.fleet.problems.worst()?;
    let t = &app.theme;
    let (word, style) = match p.severity {
        Severity::Critical => ("CRIT", t.crit),
        Severity::Warning => ("WARN", t.warn),
        Severity::Info => ("INFO", t.muted),
    };
    let at = p.cluster.and_then(|c| app.fleet.clusters.get(c)).map(|c| app.display_name(&c.context)).unwrap_or("fleet");
    let text = format!("{word} {at} {}", p.reason);
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '—' | '–' => '-',
            '×' => 'x',
            c if c.is_ascii() => c,
            _ => '?',
        })
        .collect();
    let cut = if ascii.chars().count() > max {
        format!("{}...", ascii.chars().take(max.saturating_sub(3)).collect::<String>().trim_end())
    } else {
        ascii
    };
    Some((cut, style))
}

/// A line cut to `width` columns with `…` when longer (a wall screen never cuts a word silently).
fn fit(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let text: String = span.content.chars().take(left).collect();
        left -= text.chars().count();
        spans.push(Span::styled(text, span.style));
    }
    spans.push(Span::raw("…"));
    Line::from(spans)
}

/// The firing incidents, worst then newest first, one line each (cut with `…`, the age kept),
/// then what kst cannot see; pending, unknown and standing ones are counted in the title. A
/// box tall enough leads with the worst incident in glyphs four rows high, readable across a room.
fn draw_problems(f: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let all = app.fleet.problems.all();
    let firing: Vec<_> = all.iter().filter(|p| p.incident()).collect();
    let pending = all.iter().filter(|p| p.pending() && !p.standing).count();
    let unknown = all.iter().filter(|p| p.is_unknown() && p.under.is_none()).count();
    let standing = app.fleet.problems.standing().count();
    let now = app.now();
    let title =
        format!(" Problems: {} firing · {unknown} unknown · {pending} pending · {standing} standing ", firing.len());
    let block = Block::default().borders(Borders::ALL).title(title).border_style(t.muted);
    let mut inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height >= HEADLINE_ROWS + 2 && inner.width >= HEADLINE_MIN_WIDTH && !firing.is_empty() {
        if let Some((text, style)) = headline(app, (inner.width / 4) as usize) {
            let w = (text.chars().count() as u16 * 4).min(inner.width);
            let big =
                BigText::builder().pixel_size(PixelSize::Quadrant).style(style).lines(vec![Line::from(text)]).build();
            f.render_widget(big, Rect { width: w, height: HEADLINE_ROWS, ..inner });
            inner = Rect { y: inner.y + HEADLINE_ROWS, height: inner.height - HEADLINE_ROWS, ..inner };
        }
    }
    let rows = inner.height as usize;
    let width = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for p in firing.iter().take(if firing.len() > rows { rows.saturating_sub(1) } else { rows }) {
        let style = match p.severity {
            Severity::Critical => t.crit,
            Severity::Warning => t.warn,
            Severity::Info => t.muted,
        };
        let at =
            p.cluster.and_then(|c| app.fleet.clusters.get(c)).map(|c| app.display_name(&c.context)).unwrap_or("fleet");
        // the age before the text: a cut line keeps it
        lines.push(fit(
            Line::from(vec![
                Span::styled(format!("{} {:<8} ", p.severity.mark(), p.severity.name()), style),
                Span::styled(format!("{:>5}  ", fmt::duration((now - p.since).max(0.0) as i64)), t.muted),
                Span::styled(format!("{at}  "), t.text),
                Span::styled(format!("{} {}  ", p.object.kind, p.object.path()), t.text),
                Span::styled(p.reason.clone(), style),
            ]),
            width,
        ));
    }
    if firing.len() > lines.len() {
        lines.push(Line::from(Span::styled(format!("… and {} more", firing.len() - lines.len()), t.muted)));
    }
    if firing.is_empty() {
        lines.push(Line::from(Span::styled("no problems firing", t.ok)));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// `Serving · 2/6 · next in 14s`: which pane of those the wall rotates through, and when the next comes.
fn rotation_line(app: &App, wall: &Wall) -> Line<'static> {
    let t = &app.theme;
    let shown: Vec<usize> = (0..app.panes.len()).filter(|i| app.panes[*i].has_data(&app.fleet)).collect();
    let pos = shown.iter().position(|i| *i == app.tab).map(|p| p + 1).unwrap_or(0);
    let left = (wall.next_at - app.now()).max(0.0).ceil() as i64;
    let mut spans = vec![
        Span::styled(format!(" {} ", app.panes[app.tab].title()), t.accent),
        Span::styled(format!(" {pos}/{} · next in {}", shown.len(), fmt::duration(left)), t.muted),
    ];
    if let Some(m) = &app.flash {
        spans.push(Span::styled(format!("   {m}"), t.warn));
    }
    Line::from(spans)
}

/// The wall layout: summary line, tiles, problems, the rotation line, the pane.
pub fn draw(f: &mut Frame, app: &mut App) {
    let Some(wall) = app.wall.clone() else { return };
    let area = f.area();
    let tiles_h = tiles_height(area);
    let firing = app.fleet.problems.incidents().count() as u16;
    // the problems take what they need, at most a third of what is left under the tiles
    let mut problems_h = (firing.max(1) + 2).min((area.height.saturating_sub(tiles_h + 2)) / 3).max(3);
    // a wall screen (40 rows or more) leads the problems with the worst one in big glyphs
    if area.height >= 40 && area.width >= HEADLINE_MIN_WIDTH + 2 && firing > 0 {
        problems_h += HEADLINE_ROWS;
    }
    let [head, tiles_area, problems_area, rot, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(tiles_h),
        Constraint::Length(problems_h),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    super::header::draw(f, head, app);
    draw_tiles(f, tiles_area, app);
    draw_problems(f, problems_area, app);
    f.render_widget(Paragraph::new(rotation_line(app, &wall)), rot);
    let (cx, comp) = app.parts();
    comp.draw(f, body, &cx);
}
