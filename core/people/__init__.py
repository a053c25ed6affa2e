"""People: records, phones, tags and consent."""
