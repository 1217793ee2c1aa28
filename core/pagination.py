from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination as _PageNumberPagination


class PageNumberPagination(_PageNumberPagination):
    """`?page=&page_size=` (default 50, at most 200), answering `{count, next, previous, results}`.

    A page past the end (or not a number) answers 404, as DRF does; a `page_size` that is
    not a whole number answers 400 naming it, instead of silently using the default.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                int(raw)
            except ValueError:
                raise ValidationError({self.page_size_query_param: ["A whole number is required."]}) from None
        return super().get_page_size(request)
