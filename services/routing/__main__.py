from common.runtime import main
from services.routing.app import SERVICE

main(SERVICE)
