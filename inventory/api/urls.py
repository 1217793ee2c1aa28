from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("suppliers", views.SupplierViewSet, basename="supplier")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("stock-levels", views.StockLevelViewSet, basename="stock-level")
router.register("stock-movements", views.StockMovementViewSet, basename="stock-movement")
router.register("purchase-requests", views.PurchaseRequestViewSet, basename="purchase-request")

urlpatterns = router.urls
