//! The topology graph drawn as text: node labels where the layout puts them, and each edge as a
//! box-drawing line from the end of the caller's label along its row, up or down a lane in the
//! gap before the callee's column, along the callee's row to an arrow at its label. Lines that
//! cross or share a lane join (`┼`, `┤`); a horizontal run of one kind of edge is drawn in that
//! kind's glyph (`━` observed, `┄` declared, `╳` denied), so the kind reads without colour.
//! (Braille lines on a canvas blurred into blocks where several edges met.)

use ratatui::style::Style;
use ratatui::text::{Line, Span};

const UP: u8 = 1;
const DOWN: u8 = 2;
const LEFT: u8 = 4;
const RIGHT: u8 = 8;

#[derive(Clone, Copy, Default)]
struct Cell {
    dirs: u8,
    /// The edge kind's glyph while every edge through the cell has the same one.
    glyph: Option<char>,
    mixed: bool,
    style: Style,
    text: Option<char>,
}

/// A grid of `w` x `h` cells; rows outside it are clipped (a scrolled graph).
pub struct Grid {
    w: usize,
    h: usize,
    cells: Vec<Cell>,
}

/// One edge to draw: from the cell after the caller's label, to the first cell of the callee's
/// label, along `lane` (a column in the gap before the callee's).
pub struct Route {
    pub from: (i32, i32),
    pub to: (i32, i32),
    pub lane: i32,
    pub glyph: char,
    pub style: Style,
}

impl Grid {
    pub fn new(w: usize, h: usize) -> Grid {
        Grid { w, h, cells: vec![Cell::default(); w * h] }
    }

    fn at(&mut self, x: i32, y: i32) -> Option<&mut Cell> {
        if x < 0 || y < 0 || x as usize >= self.w || y as usize >= self.h {
            return None;
        }
        self.cells.get_mut(y as usize * self.w + x as usize)
    }

    fn line(&mut self, x: i32, y: i32, dirs: u8, glyph: char, style: Style) {
        if let Some(c) = self.at(x, y) {
            if c.dirs != 0 && c.glyph != Some(glyph) {
                c.mixed = true;
            }
            c.dirs |= dirs;
            c.glyph = Some(glyph);
            c.style = style;
        }
    }

    /// Text over whatever lines pass there (a label, a heading); clipped at the right edge.
    pub fn text(&mut self, x: i32, y: i32, s: &str, style: Style) {
        for (i, ch) in s.chars().enumerate() {
            if let Some(c) = self.at(x + i as i32, y) {
                c.text = Some(ch);
                c.style = style;
            }
        }
    }

    pub fn route(&mut self, r: &Route) {
        let (x0, y0) = r.from;
        let (x1, y1) = r.to;
        let arrow = x1 - 1;
        // a lane left of the caller's label end, or right of the arrow, has no room: the lane
        // moves to where it fits
        let lane = r.lane.clamp(x0.min(arrow - 1), (arrow - 1).max(x0));
        let (g, s) = (r.glyph, r.style);
        for x in x0..lane {
            self.line(x, y0, LEFT | RIGHT, g, s);
        }
        if y0 == y1 {
            self.line(lane, y0, LEFT | RIGHT, g, s);
        } else {
            let down = y1 > y0;
            self.line(lane, y0, LEFT | if down { DOWN } else { UP }, g, s);
            for y in y0.min(y1) + 1..y0.max(y1) {
                self.line(lane, y, UP | DOWN, g, s);
            }
            self.line(lane, y1, RIGHT | if down { UP } else { DOWN }, g, s);
        }
        for x in lane + 1..arrow {
            self.line(x, y1, LEFT | RIGHT, g, s);
        }
        if let Some(c) = self.at(arrow, y1) {
            c.text = Some('▶');
            c.style = s;
        }
    }

    pub fn lines(&self) -> Vec<Line<'static>> {
        self.cells
            .chunks(self.w.max(1))
            .map(|row| {
                // runs of one style as one span: a row is a few spans, not one a cell
                let mut spans: Vec<Span<'static>> = Vec::new();
                let (mut run, mut style) = (String::new(), Style::default());
                for c in row {
                    let ch = c.text.unwrap_or_else(|| glyph_of(c));
                    let st = if c.text.is_some() || c.dirs != 0 { c.style } else { Style::default() };
                    if st != style && !run.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut run), style));
                    }
                    style = st;
                    run.push(ch);
                }
                spans.push(Span::styled(run.trim_end().to_string(), style));
                Line::from(spans)
            })
            .collect()
    }
}

/// The character of a cell the lines pass through: the edge's own glyph on a plain horizontal
/// run, else the light box-drawing piece joining the directions it goes.
fn glyph_of(c: &Cell) -> char {
    let horizontal = c.dirs & (UP | DOWN) == 0 && c.dirs != 0;
    match (horizontal, c.glyph, c.mixed) {
        (true, Some(g), false) => return g,
        (true, _, _) => return '─',
        _ => {}
    }
    match c.dirs {
        0 => ' ',
        d if d & (LEFT | RIGHT) == 0 => '│',
        d if d == DOWN | RIGHT => '┌',
        d if d == DOWN | LEFT => '┐',
        d if d == UP | RIGHT => '└',
        d if d == UP | LEFT => '┘',
        d if d == UP | DOWN | RIGHT => '├',
        d if d == UP | DOWN | LEFT => '┤',
        d if d == DOWN | LEFT | RIGHT => '┬',
        d if d == UP | LEFT | RIGHT => '┴',
        _ => '┼',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shot(g: &Grid) -> Vec<String> {
        g.lines().iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn an_edge_runs_along_its_rows_and_down_a_lane_to_an_arrow() {
        let mut g = Grid::new(20, 4);
        g.text(0, 0, "◆ a", Style::default());
        g.text(12, 2, "▣ b", Style::default());
        g.route(&Route { from: (4, 0), to: (12, 2), lane: 9, glyph: '━', style: Style::default() });
        assert_eq!(shot(&g), ["◆ a ━━━━━┐", "         │", "         └━▶▣ b", ""]);
    }

    #[test]
    fn edges_into_one_lane_join_and_kinds_read_without_colour() {
        let mut g = Grid::new(20, 5);
        let s = Style::default();
        g.route(&Route { from: (0, 0), to: (12, 2), lane: 9, glyph: '━', style: s });
        g.route(&Route { from: (0, 4), to: (12, 2), lane: 9, glyph: '┄', style: s });
        g.route(&Route { from: (0, 2), to: (12, 2), lane: 9, glyph: '┄', style: s });
        let rows = shot(&g);
        assert_eq!(rows[0], "━━━━━━━━━┐");
        assert_eq!(rows[4], "┄┄┄┄┄┄┄┄┄┘");
        // the lane cell joins three ways; the run after it carries two kinds: plain
        assert_eq!(rows[2], "┄┄┄┄┄┄┄┄┄┼─▶");
    }

    #[test]
    fn rows_outside_the_grid_are_clipped_and_labels_win() {
        let mut g = Grid::new(10, 2);
        g.route(&Route { from: (0, -3), to: (8, 1), lane: 5, glyph: '━', style: Style::default() });
        g.text(0, 1, "xy", Style::default());
        assert_eq!(shot(&g), ["     │", "xy   └━▶"]);
    }
}
