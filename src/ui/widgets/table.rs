//! The one table every list is drawn with. Column widths come from the content: each column
//! declares how it may be cut (a name keeps its unique tail, text is cut at its end, a number
//! never) and which columns may be left out on a narrow terminal; spare width goes first to the
//! name columns (up to the width most of their values need), then evenly to the columns whose
//! values would still be cut. Selection is kept by
//! identity (a row's key), not by index, so it stays on the same object when rows reorder.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// How a column's values may be shortened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// A name: shortened in the middle, keeping the start and the unique tail.
    Name,
    /// Text: cut at its end with `…`.
    Text,
    /// Never cut (numbers, states): the column is as wide as its widest value.
    Whole,
    /// A series drawn oldest to newest (a sparkline): cut at its start, so the newest stays.
    Series,
}

#[derive(Debug, Clone)]
pub struct Col {
    pub title: String,
    pub fit: Fit,
    /// Narrowest useful width (Name and Text).
    pub min: u16,
    /// Left out when the terminal is too narrow for every column: higher goes first; 0 never.
    pub drop: u8,
    pub right: bool,
    /// Not shown at all (a CLUSTER column while one cluster is focused).
    pub hidden: bool,
}

impl Col {
    pub fn name(title: &str) -> Col {
        Col { title: title.into(), fit: Fit::Name, min: 12, drop: 0, right: false, hidden: false }
    }
    pub fn text(title: &str) -> Col {
        Col { title: title.into(), fit: Fit::Text, min: 8, drop: 0, right: false, hidden: false }
    }
    pub fn series(title: &str) -> Col {
        Col { title: title.into(), fit: Fit::Series, min: 6, drop: 0, right: false, hidden: false }
    }
    pub fn whole(title: &str) -> Col {
        Col { title: title.into(), fit: Fit::Whole, min: 1, drop: 0, right: false, hidden: false }
    }
    pub fn min(mut self, min: u16) -> Col {
        self.min = min;
        self
    }
    /// May be left out on a narrow terminal (higher goes first).
    pub fn optional(mut self, drop: u8) -> Col {
        self.drop = drop;
        self
    }
    pub fn hidden_if(mut self, hide: bool) -> Col {
        self.hidden = hide;
        self
    }
    pub fn right(mut self) -> Col {
        self.right = true;
        self
    }
}

/// Where a list's selection is, by identity; the scroll offset; the geometry last drawn.
#[derive(Debug, Clone, Default)]
pub struct ListState {
    pub index: usize,
    key: Option<String>,
    /// A row to select at the next sync: its key starts with the first and holds the second
    /// (a jump from a problem to its source).
    reveal: Option<(String, String)>,
    pub offset: usize,
    /// Rows visible at the last draw (paging moves by half of it).
    pub page: usize,
    /// The screen row of the first data row at the last draw (mouse clicks).
    pub first_row: u16,
    rows: usize,
}

impl ListState {
    /// A list positioned at `index`, scrolled to `offset` (for views that keep their own index).
    pub fn at(index: usize, offset: usize) -> ListState {
        ListState { index, offset, ..Default::default() }
    }
    /// Finds the selected row again by its key after the rows changed.
    pub fn sync(&mut self, keys: &[String]) {
        self.rows = keys.len();
        if let Some((prefix, part)) = self.reveal.take() {
            if let Some(k) = keys.iter().find(|k| k.starts_with(&prefix) && k.contains(&part)) {
                self.key = Some(k.clone());
            }
        }
        if let Some(k) = &self.key {
            if let Some(i) = keys.iter().position(|x| x == k) {
                self.index = i;
            }
        }
        self.index = self.index.min(keys.len().saturating_sub(1));
        self.key = keys.get(self.index).cloned();
    }
    /// Selects, at the next draw, the row whose key starts with `prefix` (a cluster's context
    /// and `/`) and holds `part` (`namespace/name`).
    pub fn reveal(&mut self, prefix: &str, part: &str) {
        self.reveal = Some((prefix.to_string(), part.to_string()));
    }
    pub fn selected(&self) -> Option<usize> {
        (self.rows > 0).then_some(self.index)
    }
    fn set(&mut self, i: usize, keys: &[String]) {
        self.index = i.min(keys.len().saturating_sub(1));
        self.key = keys.get(self.index).cloned();
    }
    /// Moves by a keymap action (up, down, top, bottom, half pages); true when handled.
    pub fn on_action(&mut self, a: super::super::keymap::Action, keys: &[String]) -> bool {
        use super::super::keymap::Action as A;
        self.sync(keys);
        let half = (self.page / 2).max(1);
        let i = match a {
            A::Down => self.index + 1,
            A::Up => self.index.saturating_sub(1),
            A::Top => 0,
            A::Bottom => keys.len().saturating_sub(1),
            A::HalfPageDown => self.index + half,
            A::HalfPageUp => self.index.saturating_sub(half),
            A::PageDown => self.index + self.page.max(1),
            A::PageUp => self.index.saturating_sub(self.page.max(1)),
            _ => return false,
        };
        self.set(i, keys);
        true
    }
    /// A click on screen row `row`: selects the row drawn there.
    pub fn click(&mut self, row: u16) -> bool {
        let Some(on_screen) = row.checked_sub(self.first_row) else { return false };
        let i = self.offset + on_screen as usize;
        if (on_screen as usize) >= self.page || i >= self.rows {
            return false;
        }
        self.index = i;
        self.key = None; // the next sync takes the key of the row now at i
        true
    }
    /// Forget the selection (the list changed meaning: another sort, another filter).
    pub fn reset(&mut self) {
        self.index = 0;
        self.key = None;
        self.offset = 0;
    }
}

/// A table ready to draw: columns, rows of styled cells, and what its frame says.
pub struct DataTable<'a> {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Line<'a>>>,
    pub title: String,
    /// (column, descending): the header shows the sort.
    pub sort: Option<(usize, bool)>,
    /// Per-row style (a stale row dimmed), applied under the cells' own.
    pub row_styles: Vec<Style>,
    /// Said in the table's body when it has no rows.
    pub empty: String,
    /// Whether the selected row is highlighted (a table beside the pane's own list, which only
    /// shows, has none).
    highlight: bool,
}

/// A list's area split where the list needs `need` rows: the list keeps them and what is drawn
/// below it (the selected row in full, a chart) gets every row left, when there are at least
/// `min`; otherwise the list keeps the whole area.
pub fn split_below(area: Rect, need: u16, min: u16) -> (Rect, Option<Rect>) {
    if area.height < need.saturating_add(min) {
        return (area, None);
    }
    let list = Rect { height: need, ..area };
    (list, Some(Rect { y: area.y + need, height: area.height - need, ..area }))
}

pub fn cell(text: impl Into<String>, style: Style) -> Line<'static> {
    Line::from(Span::styled(text.into(), style))
}

/// A cell that borrows its text from the fleet: no copy of every row's names each frame.
pub fn cell_ref(text: &str, style: Style) -> Line<'_> {
    Line::from(Span::styled(text, style))
}

fn width(l: &Line) -> usize {
    // most cells are ASCII: their width is their length, without a Unicode table lookup
    l.spans.iter().map(|s| if s.content.is_ascii() { s.content.len() } else { s.content.width() }).sum()
}

/// Shortens `s` to `max` columns in the middle, keeping its start and its unique tail (the
/// generated suffix of a pod, the name after a `/`).
pub fn middle(s: &str, max: usize) -> String {
    let n = s.width();
    if n <= max {
        return s.to_string();
    }
    if max <= 1 {
        return "…".chars().take(max).collect();
    }
    let chars: Vec<char> = s.chars().collect();
    // keep the tail that tells rows apart: the last dash segment of a generated name and a
    // bit more, or two thirds of the room
    let tail_len = (max - 1) * 2 / 3;
    let head_len = max - 1 - tail_len;
    let head: String = chars.iter().take(head_len).collect();
    let tail: String = chars[chars.len() - tail_len..].iter().collect();
    format!("{head}…{tail}")
}

/// Cuts a line to `max` columns at its end with `…`, keeping the spans' styles.
fn end_cut<'a>(l: &Line<'a>, max: usize) -> Line<'a> {
    if width(l) <= max {
        return l.clone();
    }
    let mut out = Vec::new();
    let mut used = 0;
    for s in &l.spans {
        let mut text = String::new();
        for c in s.content.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w + 1 > max {
                break;
            }
            used += w;
            text.push(c);
        }
        let full = text.chars().count() == s.content.chars().count();
        out.push(Span::styled(text, s.style));
        if !full {
            break;
        }
    }
    out.push(Span::styled("…", l.spans.last().map(|s| s.style).unwrap_or_default()));
    Line::from(out)
}

fn fit_cell<'a>(l: &Line<'a>, fit: Fit, w: usize) -> Line<'a> {
    if width(l) <= w {
        return l.clone();
    }
    match fit {
        Fit::Name if l.spans.len() == 1 => Line::from(Span::styled(middle(&l.spans[0].content, w), l.spans[0].style)),
        Fit::Series if l.spans.len() == 1 => {
            let c = &l.spans[0].content;
            let skip = c.chars().count().saturating_sub(w);
            Line::from(Span::styled(c.chars().skip(skip).collect::<String>(), l.spans[0].style))
        }
        _ => end_cut(l, w),
    }
}

/// Column widths for `avail` columns of room (spacing included): which columns are shown
/// and how wide. Pure, so it is tested without drawing.
pub fn layout(cols: &[Col], rows: &[Vec<Line>], sort: Option<(usize, bool)>, avail: usize) -> Vec<Option<usize>> {
    let pref: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let title = c.title.width() + usize::from(sort.is_some_and(|(s, _)| s == i));
            rows.iter().map(|r| r.get(i).map(width).unwrap_or(0)).max().unwrap_or(0).max(title)
        })
        .collect();
    let min: Vec<usize> = cols
        .iter()
        .zip(&pref)
        .map(|(c, p)| match c.fit {
            Fit::Whole => *p,
            _ => (*p).min((c.min as usize).max(c.title.width())),
        })
        .collect();
    let mut shown: Vec<bool> = cols.iter().map(|c| !c.hidden).collect();
    let need = |shown: &[bool], w: &[usize]| -> usize {
        let n = shown.iter().filter(|s| **s).count();
        shown.iter().zip(w).filter(|(s, _)| **s).map(|(_, w)| w).sum::<usize>() + n.saturating_sub(1)
    };
    // the width that shows 9 in 10 of a name column's values whole: one outlier (a 70-character
    // workflow name) must not take the room every other column needs
    let typical: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if c.fit != Fit::Name || rows.is_empty() {
                return pref[i];
            }
            let mut ws: Vec<usize> = rows.iter().map(|r| r.get(i).map(width).unwrap_or(0)).collect();
            ws.sort_unstable();
            let at = (ws.len() * 9).div_ceil(10).saturating_sub(1);
            ws[at].max(min[i])
        })
        .collect();
    // minimums first; then names up to their typical width, in order (a name tells rows apart);
    // then what is left shared evenly among the columns that would still cut a value, so no
    // column is starved while another takes all the room
    let grow = |shown: &[bool]| -> Vec<usize> {
        let mut w: Vec<usize> = min.clone();
        let mut left = avail.saturating_sub(need(shown, &w));
        for i in (0..cols.len()).filter(|i| shown[*i] && cols[*i].fit == Fit::Name) {
            let more = typical[i].saturating_sub(w[i]).min(left);
            w[i] += more;
            left -= more;
        }
        loop {
            let wanting: Vec<usize> = (0..cols.len()).filter(|i| shown[*i] && w[*i] < pref[*i]).collect();
            if wanting.is_empty() || left == 0 {
                break;
            }
            let share = (left / wanting.len()).max(1);
            for i in wanting {
                let more = (pref[i] - w[i]).min(share).min(left);
                w[i] += more;
                left -= more;
            }
        }
        w
    };
    // leave out optional columns, the highest drop first, while even the minimums do not fit
    // or a name would be cut (a name is what tells rows apart)
    let mut w = grow(&shown);
    loop {
        let names_cut = cols.iter().enumerate().any(|(i, c)| shown[i] && c.fit == Fit::Name && w[i] < pref[i]);
        if need(&shown, &min) <= avail && !names_cut {
            break;
        }
        let victim = cols
            .iter()
            .enumerate()
            .filter(|(i, c)| shown[*i] && c.drop > 0)
            .max_by_key(|(i, c)| (c.drop, *i))
            .map(|(i, _)| i);
        match victim {
            Some(i) => {
                shown[i] = false;
                w = grow(&shown);
            }
            None => break,
        }
    }
    // still too wide with every optional column out: the widest name or text gives way (to a
    // cut the cell shows with `…`), rather than the terminal clipping columns with no mark
    let mut over = need(&shown, &w).saturating_sub(avail);
    while over > 0 {
        let widest =
            (0..cols.len()).filter(|i| shown[*i] && cols[*i].fit != Fit::Whole && w[*i] > 4).max_by_key(|i| w[*i]);
        let Some(i) = widest else { break };
        let cut = over.min(w[i] - 4);
        w[i] -= cut;
        over -= cut;
    }
    let mut left = avail.saturating_sub(need(&shown, &w));
    // optional columns left out come back if there is room for them whole
    for i in 0..cols.len() {
        if !shown[i] && !cols[i].hidden && pref[i] < left {
            shown[i] = true;
            w[i] = pref[i];
            left -= pref[i] + 1;
        }
    }
    w.into_iter().zip(shown).map(|(w, s)| s.then_some(w)).collect()
}

impl<'a> DataTable<'a> {
    pub fn new(title: impl Into<String>, cols: Vec<Col>) -> DataTable<'a> {
        DataTable {
            cols,
            rows: Vec::new(),
            title: title.into(),
            sort: None,
            row_styles: Vec::new(),
            empty: String::new(),
            highlight: true,
        }
    }

    /// Draws the table with no row highlighted: one that only shows, beside the pane's list.
    pub fn draw_unselected(mut self, f: &mut Frame, area: Rect, theme: &crate::theme::Theme) {
        self.highlight = false;
        self.draw(f, area, &mut ListState::default(), theme)
    }

    /// Draws the table in a bordered block, the selected row highlighted and kept in view,
    /// `12-40 of 118` on the frame when the rows do not all fit; records the geometry.
    pub fn draw(self, f: &mut Frame, area: Rect, state: &mut ListState, theme: &crate::theme::Theme) {
        let inner_w = area.width.saturating_sub(2) as usize;
        let page = area.height.saturating_sub(3) as usize;
        let n = self.rows.len();
        state.page = page;
        state.rows = n;
        state.first_row = area.y + 2;
        if n > 0 {
            state.index = state.index.min(n - 1);
            if state.index < state.offset {
                state.offset = state.index;
            } else if state.index >= state.offset + page.max(1) {
                state.offset = state.index + 1 - page.max(1);
            }
            state.offset = state.offset.min(n.saturating_sub(page.max(1)));
        } else {
            state.offset = 0;
        }
        // borrowed as the pane made them: only the visible rows' cells are copied into the table
        let rows = &self.rows;
        let widths = layout(&self.cols, rows, self.sort, inner_w);
        let visible: Vec<usize> = (0..self.cols.len()).filter(|i| widths[*i].is_some()).collect();
        let header = Row::new(visible.iter().map(|i| {
            let c = &self.cols[*i];
            let mut t = c.title.clone();
            if let Some((s, desc)) = self.sort {
                if s == *i {
                    t.push(if desc { '▼' } else { '▲' });
                }
            }
            Cell::from(t)
        }))
        .style(theme.header);
        let body: Vec<Row> = rows
            .iter()
            .enumerate()
            .skip(state.offset)
            .take(page.max(1))
            .map(|(ri, r)| {
                let cells = visible.iter().map(|i| {
                    let w = widths[*i].unwrap_or(0);
                    let line = r.get(*i).cloned().unwrap_or_default();
                    let mut l = fit_cell(&line, self.cols[*i].fit, w);
                    if self.cols[*i].right {
                        l = l.right_aligned();
                    }
                    Cell::from(l)
                });
                let mut row = Row::new(cells.collect::<Vec<_>>());
                if let Some(s) = self.row_styles.get(ri) {
                    row = row.style(*s);
                }
                row
            })
            .collect();
        let mut block = Block::default().borders(Borders::ALL).title(self.title.clone()).border_style(theme.muted);
        if n > page && page > 0 {
            let last = (state.offset + page).min(n);
            block = block.title_bottom(Line::from(format!(" {}-{last} of {n} ", state.offset + 1)).right_aligned());
        }
        let constraints: Vec<Constraint> =
            visible.iter().map(|i| Constraint::Length(widths[*i].unwrap_or(0) as u16)).collect();
        let table = Table::new(body, constraints).header(header).row_highlight_style(theme.selection).block(block);
        let mut ts = TableState::default();
        if n > 0 && self.highlight {
            ts.select(Some(state.index - state.offset));
        }
        f.render_stateful_widget(table, area, &mut ts);
        if n == 0 && !self.empty.is_empty() && area.height > 3 {
            let r = Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 };
            f.render_widget(Paragraph::new(Span::styled(self.empty, theme.muted)), r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[&str]]) -> Vec<Vec<Line<'static>>> {
        v.iter().map(|r| r.iter().map(|c| Line::from(c.to_string())).collect()).collect()
    }

    #[test]
    fn the_rows_a_list_leaves_go_below_it_when_enough() {
        let area = Rect::new(0, 2, 80, 20);
        assert_eq!(split_below(area, 12, 8), (Rect::new(0, 2, 80, 12), Some(Rect::new(0, 14, 80, 8))));
        assert_eq!(split_below(area, 13, 8), (area, None), "7 rows left: too few, the list keeps them");
    }

    #[test]
    fn a_series_keeps_its_newest_end() {
        let l = Line::from("▁▂▃▄▅▆▇█");
        assert_eq!(fit_cell(&l, Fit::Series, 3).to_string(), "▆▇█");
        assert_eq!(fit_cell(&l, Fit::Text, 3).to_string(), "▁▂…");
    }

    #[test]
    fn names_keep_their_unique_tail() {
        let m = middle("ms-pd-llm-d-modelservice-decode-z5pbtvpl7b-5f7jd", 20);
        assert_eq!(m.width(), 20);
        assert!(m.ends_with("-5f7jd") && m.starts_with("ms-pd"), "{m}");
        assert_eq!(middle("short", 20), "short");
    }

    #[test]
    fn spare_width_goes_to_the_cut_column_not_the_first() {
        let cols = vec![Col::name("POOL"), Col::text("MODEL").min(8), Col::whole("REQ/S")];
        let r = rows(&[&["gpu-us-east/pd", "llama-3-1-8b-instruct-with-a-long-name", "12"]]);
        let w = layout(&cols, &r, None, 200);
        // everything whole: each column as wide as its widest value
        assert_eq!(w, vec![Some(14), Some(38), Some(5)]);
        // tight: the minimums, then the rest to the columns in order
        let w = layout(&cols, &r, None, 40);
        assert_eq!(w.iter().flatten().sum::<usize>() + 2, 40);
        assert_eq!(w[0], Some(14), "the name is whole before the model gets more");
    }

    #[test]
    fn one_long_name_does_not_starve_the_text_beside_it() {
        let cols = vec![Col::name("OBJECT").min(16), Col::text("PROBLEM").min(20)];
        let mut list: Vec<[String; 2]> = (0..9)
            .map(|i| [format!("team1/agent-{i}"), format!("rbac.cluster-admin: bound to cluster-admin ({i})")])
            .collect();
        list.push(["nightly-e2e-precise-prefix-cache-routing-ibm-acc-gpu-vllm-x-and-more".into(), "red".into()]);
        let r: Vec<Vec<Line>> = list.iter().map(|x| x.iter().map(|c| Line::from(c.clone())).collect()).collect();
        let w = layout(&cols, &r, None, 80);
        let (object, problem) = (w[0].unwrap(), w[1].unwrap());
        assert!(object >= "team1/agent-0".len(), "9 of 10 names whole: {w:?}");
        assert!(problem >= 40, "the problems are not cut to their minimum for one outlier: {w:?}");
        assert_eq!(object + problem + 1, 80, "all the room is used");
    }

    #[test]
    fn too_wide_even_at_the_minimums_the_widest_name_gives_way_not_the_terminal() {
        // the pods of every cluster at 80 columns, with no optional column left to drop
        let cols = vec![
            Col::name("CLUSTER").min(8),
            Col::name("NAMESPACE").min(8),
            Col::name("NAME").min(20),
            Col::whole("READY"),
            Col::text("STATUS").min(10),
            Col::whole("RESTARTS"),
            Col::whole("CPU"),
            Col::whole("MEM"),
            Col::whole("AGE"),
        ];
        let r = rows(&[&[
            "gpu-us-east",
            "llm-d",
            "ms-baseline-llm-d-modelservice-nczphjq7dc-hbbgx",
            "1/1",
            "CrashLoopBackOff",
            "0",
            "3854m",
            "40363Mi",
            "20d",
        ]]);
        let w = layout(&cols, &r, None, 78);
        let used: usize = w.iter().flatten().sum::<usize>() + w.iter().flatten().count() - 1;
        assert!(used <= 78, "the widths fit the room: {w:?}");
        assert!(w[3..].iter().zip(["1/1", "", "0", "3854m", "40363Mi", "20d"]).all(|(w, v)| w.unwrap() >= v.len()));
    }

    #[test]
    fn optional_columns_are_left_out_when_even_minimums_do_not_fit() {
        let cols = vec![Col::name("NAME"), Col::whole("STATE"), Col::text("DETAIL").optional(1)];
        let r = rows(&[&["a-long-cluster-name", "unreachable", "connection refused"]]);
        assert_eq!(layout(&cols, &r, None, 30), vec![Some(18), Some(11), None]);
        assert_eq!(layout(&cols, &r, None, 60)[2], Some(18));
    }

    #[test]
    fn the_sort_arrow_takes_room_in_the_title() {
        let cols = vec![Col::whole("RESTARTS")];
        assert_eq!(layout(&cols, &rows(&[&["3"]]), Some((0, true)), 80), vec![Some(9)]);
    }

    #[test]
    fn selection_follows_the_row_not_the_index() {
        let mut s = ListState::default();
        let keys: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        s.on_action(crate::ui::keymap::Action::Down, &keys);
        assert_eq!(s.selected(), Some(1));
        let reordered: Vec<String> = ["c", "a", "b"].iter().map(|s| s.to_string()).collect();
        s.sync(&reordered);
        assert_eq!(s.selected(), Some(2), "still on b");
        s.sync(&["x".to_string()]);
        assert_eq!(s.selected(), Some(0), "b is gone: clamped");
    }
}
