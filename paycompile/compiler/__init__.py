"""The compiler: spec -> resource graph (graph, builder, one module per platform area), rules."""
