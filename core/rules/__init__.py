"""The rules of the domain: what people may type, names, titles, passwords, the organisation."""
