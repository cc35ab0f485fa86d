"""On-call runtime pieces (the paging engine will live here); who is on call is config.schedules."""
