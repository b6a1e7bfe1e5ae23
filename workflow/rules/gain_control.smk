# gain_control rules (filled in by the corresponding capability).
