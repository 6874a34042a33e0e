"""The compliance report: each rule, the PCI DSS requirements it serves, the resources and
properties that prove it, and what the outside judges (cfn-lint, checkov, cfn-guard with AWS
Control Tower's controls, cdk-nag) say about the same template.

Nothing here is imported by `import paycompile` or by the build path: the judges run tools and
the renderer needs jinja2, so `paycompile report` imports this package when it runs.
"""
