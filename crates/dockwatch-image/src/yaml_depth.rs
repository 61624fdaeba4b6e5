//! How deep a YAML text's flow collections (`[...]`, `{...}`) nest, estimated in one linear pass
//! before the YAML parser sees the text: libyaml's scanner checks every open flow level for each
//! token, so a 200 KB file of `[[[[...` costs minutes. Lockfiles and OSV records nest flow collections two or
//! three deep at most.

/// Deeper flow nesting than this is refused.
pub(crate) const MAX_FLOW_DEPTH: usize = 64;

/// The deepest flow nesting of `text`, over-estimated rather than under: every `[` and `{`
/// counts, even inside scalars and quotes; a closing bracket counts only outside quoted scalars
/// and comments. Quoted scalars are tracked where YAML starts them inside flow collections
/// (after `[`, `{`, `,` or `:`), so crafted quotes gain an attacker at most the depth they
/// already had, never an unbounded nesting.
pub(crate) fn flow_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    // The last byte that was not a space or tab; a line break counts as one.
    let mut prev = b'\n';
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'[' | b'{') {
            depth += 1;
            max = max.max(depth);
        }
        match quote {
            Some(b'"') if b == b'\\' => i += 1, // the escaped byte is skipped
            Some(b'\'') if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1, // `''`
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'\'' | b'"' if depth > 0 && matches!(prev, b'[' | b'{' | b',' | b':') => {
                    quote = Some(b);
                }
                // A comment runs to the end of the line.
                b'#' if matches!(prev, b'\n') || matches!(bytes[i - 1], b' ' | b'\t') => {
                    while i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                        if matches!(bytes[i + 1], b'[' | b'{') {
                            depth += 1;
                            max = max.max(depth);
                        }
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        if !matches!(b, b' ' | b'\t') {
            prev = if b == b'\r' { b'\n' } else { b };
        }
        i += 1;
    }
    max
}

#[cfg(test)]
mod tests {
    use super::flow_depth;

    #[test]
    fn depth_of_real_and_crafted_texts() {
        let pnpm = "lockfileVersion: '9.0'\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-x}\n    cpu: [x64]\n    engines: {node: '>=8'}\n";
        assert_eq!(flow_depth(pnpm), 1);
        assert_eq!(flow_depth("a: [[1, {b: [2]}]]"), 4);
        assert_eq!(
            flow_depth(&format!("{}{}", "[".repeat(1000), "]".repeat(1000))),
            1000
        );
        // Closers in quoted scalars and comments do not hide the nesting around them.
        let crafted = "[ ']]]]' [ \"]]\\\"]]\" [ 'it''s ]]' [ # ]]]]\n [ x ] ] ] ] ]";
        assert_eq!(flow_depth(crafted), 5);
        // A quote inside a plain scalar of a block opens nothing; the brackets after count.
        assert_eq!(flow_depth("k: a'b\nz: [[[x]]]\n"), 3);
        // Brackets inside comments and scalars count (over, never under).
        assert_eq!(flow_depth("# [[[\nk: v\n"), 3);
        assert_eq!(flow_depth(""), 0);
    }
}
