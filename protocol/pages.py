"""Pages of a list, as Laravel's paginator answers them (RESPONSES.md):
``current_page``, ``data``, ``links``, ``total``... with 20 rows a page."""

PAGE_SIZE = 20


def paginate(query, page, shape, path, per_page=PAGE_SIZE):
    """A Laravel paginator of query's rows, each through shape."""
    total = query.count()
    last_page = max(1, -(-total // per_page))
    page = max(1, page)
    rows = [shape(row) for row in query.paginate(page, per_page)]
    first = (page - 1) * per_page + 1 if rows else None

    def url(n):
        return "%s?page=%d" % (path, n) + ("&per_page=%d" % per_page
                                            if per_page != PAGE_SIZE else "")
    links = ([{"url": url(page - 1) if page > 1 else None, "label": "&laquo; Previous",
               "active": False}] +
             [{"url": url(n), "label": str(n), "active": n == page}
              for n in range(1, last_page + 1)] +
             [{"url": url(page + 1) if page < last_page else None, "label": "Next &raquo;",
               "active": False}])
    return {
        "current_page": page, "data": rows, "first_page_url": url(1),
        "from": first, "last_page": last_page, "last_page_url": url(last_page),
        "links": links, "next_page_url": url(page + 1) if page < last_page else None,
        "path": path, "per_page": per_page,
        "prev_page_url": url(page - 1) if page > 1 else None,
        "to": first + len(rows) - 1 if rows else None, "total": total,
    }
