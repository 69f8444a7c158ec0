//! Figures (PNG and SVG) with an embedded CJK font.
