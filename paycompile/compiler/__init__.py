"""The compiler: spec -> resource graph (graph, builder and one module per platform area) + rules."""
