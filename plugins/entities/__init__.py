"""The four built-in entities: folder sources that know what their business must track."""
