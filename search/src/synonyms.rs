//! Synonym groups that widen a query term (低保 → 最低生活保障).

use std::collections::HashMap;

/// Synonym groups: a query term found in a group also matches every other member.
///
/// Text format: one group per line, members separated by `,` (also `，` or `、`), `#` starts a
/// comment, blank lines are ignored: `低保,最低生活保障,低保户`. Members compare
/// case-insensitively; a group needs at least two members.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    by_member: HashMap<String, Vec<usize>>,
}

impl Synonyms {
    /// Parses groups from text (see the type's docs for the format). Never fails: lines with
    /// fewer than two members are skipped.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            let mut group: Vec<String> = Vec::new();
            for member in line.split([',', '，', '、']) {
                let member = member.trim().to_lowercase();
                if !member.is_empty() && !group.contains(&member) {
                    group.push(member);
                }
            }
            if group.len() >= 2 {
                out.add(group);
            }
        }
        out
    }

    /// The groups shipped with the system (`assets/search/synonyms.txt`).
    pub fn shipped() -> Self {
        Self::parse(include_str!("../../assets/search/synonyms.txt"))
    }

    /// The other members of every group that contains `term` (case-insensitive), without
    /// `term` itself and without duplicates.
    pub fn expand(&self, term: &str) -> Vec<String> {
        let term = term.to_lowercase();
        let mut out: Vec<String> = Vec::new();
        let groups = self
            .by_member
            .get(&term)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for member in groups.iter().filter_map(|&g| self.groups.get(g)).flatten() {
            if *member != term && !out.contains(member) {
                out.push(member.clone());
            }
        }
        out
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    fn add(&mut self, group: Vec<String>) {
        let index = self.groups.len();
        for member in &group {
            self.by_member
                .entry(member.clone())
                .or_default()
                .push(index);
        }
        self.groups.push(group);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn parse_skips_comments_blank_lines_and_singletons() {
        let s =
            Synonyms::parse("# 注释\n\n低保, 最低生活保障，低保户 # 俗称\n孤单\nICP、网站备案\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s.expand("低保"), vec!["最低生活保障", "低保户"]);
        assert_eq!(s.expand("icp"), vec!["网站备案"]);
        assert!(s.expand("孤单").is_empty());
    }

    #[test]
    fn a_term_in_two_groups_gets_both() {
        let s = Synonyms::parse("营业执照,开店\n开店,开饭店,餐饮");
        assert_eq!(s.expand("开店"), vec!["营业执照", "开饭店", "餐饮"]);
    }

    #[test]
    fn shipped_groups_cover_the_common_colloquial_names() {
        let s = Synonyms::shipped();
        assert!(s.len() >= 30, "only {} groups", s.len());
        assert!(s.expand("低保").contains(&"最低生活保障".to_owned()));
        assert!(s.expand("身份证").contains(&"居民身份证".to_owned()));
        assert!(s.expand("开饭店").contains(&"食品经营".to_owned()));
    }
}
