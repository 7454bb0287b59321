"""Operating Liveboard: what a load balancer and an operator ask a process (SPEC §13)."""
