# connectome rules (filled in by the corresponding capability).
