"""What touches an AWS account: approval of a change before it is applied, and the engines."""
