"""Market data: the event records (:mod:`.events`), event logs
(:mod:`.eventlog`), importers of other formats (:mod:`.importers`), the
synthetic market (:mod:`.synth`) and the book audit of logs (:mod:`.audit`)."""
