from common.runtime import main
from services.nba.app import SERVICE

main(SERVICE)
