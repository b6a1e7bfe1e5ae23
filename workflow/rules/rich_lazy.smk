# rich_lazy rules (filled in by the corresponding capability).
