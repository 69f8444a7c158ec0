//! The order in which block accumulators are merged: a fixed binary tree over block
//! indices, so that any contiguous split of the blocks (a shard of a run) can be merged
//! back into exactly the bits of the whole run (docs/model.md §7).
//!
//! Merging moments is not associative in floating point: `(a ⊕ b) ⊕ c` and `a ⊕ (b ⊕ c)`
//! differ in the last bits. A left fold over blocks would tie every statistic to one
//! sequence of merges, which a shard that starts in the middle cannot reproduce. Here node
//! `(l, k)` covers blocks `k·2^l .. (k+1)·2^l` and is always `merge(node(l−1, 2k),
//! node(l−1, 2k+1))`; a run over blocks `0..B` ends with the nodes of the binary
//! decomposition of B, folded from left to right. Any range of blocks builds the same
//! nodes wherever both children lie inside it, and pushing several ranges' leftover nodes
//! in block order completes the same tree, so a merge of shards repeats every floating-
//! point operation of the single run. It costs no more than the left fold (one merge per
//! block) and holds at most about log₂ B nodes.

use serde::{Deserialize, Serialize};

/// An accumulator that can absorb the one of the blocks right after its own.
pub trait Mergeable {
    fn merge(&mut self, later: &Self);
}

/// The accumulator of the aligned run of blocks `index·2^level .. (index+1)·2^level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node<T> {
    pub level: u32,
    pub index: u64,
    pub acc: T,
}

impl<T> Node<T> {
    /// First block covered.
    pub fn first(&self) -> u64 {
        self.index << self.level
    }

    /// One past the last block covered.
    pub fn end(&self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// Nodes of a contiguous range of blocks, in block order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockTree<T> {
    nodes: Vec<Node<T>>,
}

impl<T> Default for BlockTree<T> {
    fn default() -> Self {
        BlockTree { nodes: Vec::new() }
    }
}

impl<T: Mergeable> BlockTree<T> {
    /// Append block `b`'s accumulator (blocks must come in order, without gaps).
    pub fn push_block(&mut self, b: u64, acc: T) -> Result<(), String> {
        self.push(Node {
            level: 0,
            index: b,
            acc,
        })
    }

    /// Append a node that starts where the last one ends, merging it with its left sibling
    /// while that is the last node.
    pub fn push(&mut self, mut node: Node<T>) -> Result<(), String> {
        if let Some(last) = self.nodes.last()
            && last.end() != node.first()
        {
            return Err(format!(
                "blocks {}..{} do not follow blocks {}..{}",
                node.first(),
                node.end(),
                last.first(),
                last.end()
            ));
        }
        while node.index % 2 == 1 {
            let is_sibling =
                |left: &Node<T>| left.level == node.level && left.index + 1 == node.index;
            let Some(mut left) = self.nodes.pop_if(|left| is_sibling(left)) else {
                break;
            };
            left.acc.merge(&node.acc);
            node = Node {
                level: node.level + 1,
                index: node.index / 2,
                acc: left.acc,
            };
        }
        self.nodes.push(node);
        Ok(())
    }

    /// Append every node of `later`, the tree of the range right after this one.
    pub fn append(&mut self, later: BlockTree<T>) -> Result<(), String> {
        later.nodes.into_iter().try_for_each(|n| self.push(n))
    }

    /// The blocks covered, `first..end` (`None` when empty).
    pub fn range(&self) -> Option<std::ops::Range<u64>> {
        Some(self.nodes.first()?.first()..self.nodes.last()?.end())
    }

    /// The whole range's accumulator: its nodes folded from left to right.
    pub fn finish(self) -> Option<T> {
        let mut nodes = self.nodes.into_iter();
        let mut total = nodes.next()?.acc;
        nodes.for_each(|n| total.merge(&n.acc));
        Some(total)
    }

    pub fn nodes(&self) -> &[Node<T>] {
        &self.nodes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A non-associative merge (a running floating-point mean) and the exact list of the
    /// blocks merged, so that both the order and the grouping are visible.
    #[derive(Debug, Clone, PartialEq)]
    struct Trace {
        n: f64,
        mean: f64,
        blocks: Vec<u64>,
        shape: String,
    }

    impl Mergeable for Trace {
        fn merge(&mut self, o: &Self) {
            let n = self.n + o.n;
            self.mean += (o.mean - self.mean) * o.n / n;
            self.n = n;
            self.blocks.extend(&o.blocks);
            self.shape = format!("({} {})", self.shape, o.shape);
        }
    }

    fn leaf(b: u64) -> Trace {
        Trace {
            n: 1.0 + (b % 3) as f64,
            mean: 0.1 * b as f64 + 1.0 / (b + 3) as f64,
            blocks: vec![b],
            shape: b.to_string(),
        }
    }

    fn tree(blocks: std::ops::Range<u64>) -> BlockTree<Trace> {
        let mut t = BlockTree::default();
        for b in blocks {
            t.push_block(b, leaf(b)).unwrap();
        }
        t
    }

    #[test]
    fn a_run_merges_pairwise_and_folds_the_binary_decomposition() {
        let total = tree(0..6).finish().unwrap();
        assert_eq!(total.blocks, (0..6).collect::<Vec<_>>());
        assert_eq!(total.shape, "(((0 1) (2 3)) (4 5))");
        assert_eq!(
            tree(0..7).finish().unwrap().shape,
            "((((0 1) (2 3)) (4 5)) 6)"
        );
        assert_eq!(tree(0..8).nodes().len(), 1);
        assert_eq!(tree(0..7).nodes().len(), 3);
    }

    /// Every split of 0..B into contiguous ranges, merged in order, repeats the single
    /// run's merges bit for bit.
    #[test]
    fn any_contiguous_split_merges_to_the_same_bits() {
        for blocks in [1u64, 2, 5, 13, 40, 64, 100] {
            let whole = tree(0..blocks).finish().unwrap();
            for shards in [1u64, 2, 3, 7, 64] {
                let mut merged = BlockTree::default();
                for k in 0..shards {
                    let r = k * blocks / shards..(k + 1) * blocks / shards;
                    merged.append(tree(r)).unwrap();
                }
                let m = merged.finish().unwrap();
                assert_eq!(m.shape, whole.shape, "B={blocks} N={shards}");
                assert_eq!(m.mean.to_bits(), whole.mean.to_bits());
            }
        }
    }

    /// The grouping matters for the bits: a left fold differs, which is why the tree is
    /// fixed.
    #[test]
    fn the_left_fold_would_differ() {
        let whole = tree(0..40).finish().unwrap();
        let mut fold = leaf(0);
        (1..40).for_each(|b| fold.merge(&leaf(b)));
        assert_eq!(fold.blocks, whole.blocks);
        assert_ne!(fold.shape, whole.shape);
    }

    #[test]
    fn gaps_and_overlaps_are_refused() {
        let mut t = tree(0..3);
        assert!(t.append(tree(4..6)).is_err());
        assert!(t.append(tree(2..6)).is_err());
        assert!(t.append(tree(3..6)).is_ok());
        assert_eq!(t.range(), Some(0..6));
    }
}
